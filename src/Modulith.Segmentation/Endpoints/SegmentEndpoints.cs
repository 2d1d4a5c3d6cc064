using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using CsvHelper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Modulith.Customers.Contracts;
using Modulith.Segmentation.Contracts;
using Modulith.Segmentation.Segments;
using Modulith.Segmentation.Segments.Membership;
using Modulith.Segmentation.Segments.Preview;
using Modulith.Segmentation.Segments.Rules;
using Modulith.SharedKernel;
using Modulith.SharedKernel.Security;
using Modulith.SharedKernel.Time;
using Modulith.SharedKernel.Web;

namespace Modulith.Segmentation.Endpoints;

internal static partial class SegmentEndpoints
{
    private const int MaxRuleBytes = 64 * 1024;
    private const int MaxSegments = 500;

    public static void Map(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/segments").WithTags("Segments");
        group.MapGet("/", ListAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("The workspace's segments with their exact member counts and back-fill progress.")
            .ProducesAuthProblems();
        group.MapPost("/", CreateAsync).RequireAuthorization(Policies.WriteCustomers)
            .WithSummary("Create a segment from a rule (docs/segments.md). Membership is then kept current in real time; existing customers are back-filled in the background (progress in 'backfill').")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesAuthProblems();
        group.MapPost("/preview", PreviewAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("Evaluate a rule over every customer now, without saving it: the count and a sample.")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();
        group.MapGet("/{id}", GetAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("One segment.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesAuthProblems();
        group.MapPut("/{id}", UpdateAsync).RequireAuthorization(Policies.WriteCustomers)
            .WithSummary("Replace a segment's name, description and rule; a changed rule is back-filled over every customer (entries and exits are emitted).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesAuthProblems();
        group.MapDelete("/{id}", DeleteAsync).RequireAuthorization(Policies.WriteCustomers)
            .WithSummary("Delete a segment (refused while another segment's rule refers to it).")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesAuthProblems();
        group.MapGet("/{id}/members", MembersAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("The segment's members, paged by cursor (limit up to 1000); format=csv streams every member as CSV.")
            .Produces<Page<SegmentMember>>(StatusCodes.Status200OK, "application/json", "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesAuthProblems();
        group.MapGet("/{id}/audience", AudienceAsync).RequireAuthorization(Policies.WriteCustomers)
            .WithSummary("An audience file for ad platforms (CSV): every member's normalised email and phone, SHA-256 hashed. platform=google (default; phone as E.164 with '+') or meta (phone digits only). Members who withdrew the 'advertising' consent are left out.")
            .Produces<string>(StatusCodes.Status200OK, "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesAuthProblems();
        group.MapGet("/{id}/changes", ChangesAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("The segment's entries and exits in order, after the sequence 'after' (a change feed).")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesAuthProblems();

        var lifecycle = app.MapGroup("/api/lifecycle").WithTags("Segments");
        lifecycle.MapGet("/", LifecycleAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("The workspace's lifecycle windows (new, active, dormant, lost).")
            .ProducesAuthProblems();
        lifecycle.MapPut("/", PutLifecycleAsync).RequireAuthorization(Policies.Admin)
            .WithSummary("Change the lifecycle windows (ISO 8601 durations; newWithin <= activeWithin < lostAfter).")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();

        var rfm = app.MapGroup("/api/rfm").WithTags("Segments");
        rfm.MapGet("/", RfmAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("The latest RFM computation: quintile cut points, customers per named cell and per lifecycle stage.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesAuthProblems();
        rfm.MapPost("/recompute", RecomputeAsync).RequireAuthorization(Policies.WriteCustomers)
            .WithSummary("Recompute RFM scores and cells and predicted value now (they are also recomputed periodically and after order imports).")
            .ProducesAuthProblems();
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();

    private static SegmentView View(StoredSegment s)
    {
        using var document = JsonDocument.Parse(s.Rule);
        return new SegmentView(s.Id, s.Name, s.Description, document.RootElement.Clone(), s.Version, s.MemberCount,
            new SegmentBackfill(s.BackfillStatus, s.BackfillTotal, s.BackfillDone), s.CreatedAt, s.UpdatedAt);
    }

    private static async Task<Ok<IReadOnlyList<SegmentView>>> ListAsync(ClaimsPrincipal user, SegmentStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<SegmentView>>((await store.ListAsync(user.WorkspaceId(), cancellationToken)).Select(View).ToList());

    private static async Task<Results<Ok<SegmentView>, ProblemHttpResult>> GetAsync(string id, ClaimsPrincipal user, SegmentStore store, CancellationToken cancellationToken) =>
        IdPattern().IsMatch(id) && await store.GetAsync(user.WorkspaceId(), id, cancellationToken) is { } segment
            ? TypedResults.Ok(View(segment))
            : Problems.NotFound($"No segment '{Clip(id)}' in this workspace.");

    private static async Task<Results<Created<SegmentView>, ProblemHttpResult>> CreateAsync(
        SegmentDefinition body, ClaimsPrincipal user, SegmentStore store, SegmentCatalog catalog, SegmentBackfillWorker backfill, TimeProvider clock)
    {
        var workspaceId = user.WorkspaceId();
        var id = body.Id ?? "seg_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        if (!IdPattern().IsMatch(id))
        {
            return Problems.BadRequest("'id' may hold letters, digits, '-' and '_', up to 64 characters.");
        }

        var existing = await store.ListAsync(workspaceId);
        if (existing.Count >= MaxSegments)
        {
            return Problems.BadRequest($"A workspace may have at most {MaxSegments} segments.");
        }

        if (Validate(id, body, existing, out var rule) is { } invalid)
        {
            return invalid;
        }

        if (!await store.CreateAsync(workspaceId, id, body.Name!.Trim(), body.Description, rule, Actor(user), clock.GetUtcNow()))
        {
            return Problems.Conflict($"A segment '{id}' already exists.");
        }

        catalog.Invalidate(workspaceId);
        backfill.Wake();
        return TypedResults.Created($"/api/segments/{id}", View((await store.GetAsync(workspaceId, id))!));
    }

    private static async Task<Results<Ok<SegmentView>, ProblemHttpResult>> UpdateAsync(
        string id, SegmentDefinition body, ClaimsPrincipal user, SegmentStore store, SegmentCatalog catalog, SegmentBackfillWorker backfill, TimeProvider clock)
    {
        var workspaceId = user.WorkspaceId();
        var existing = await store.ListAsync(workspaceId);
        if (!existing.Any(s => s.Id == id))
        {
            return Problems.NotFound($"No segment '{Clip(id)}' in this workspace.");
        }

        if (body.Id is not null && body.Id != id)
        {
            return Problems.BadRequest("A segment's id cannot change.");
        }

        if (Validate(id, body, existing, out var rule) is { } invalid)
        {
            return invalid;
        }

        await store.UpdateAsync(workspaceId, id, body.Name!.Trim(), body.Description, rule, clock.GetUtcNow());
        catalog.Invalidate(workspaceId);
        backfill.Wake();
        return TypedResults.Ok(View((await store.GetAsync(workspaceId, id))!));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, ClaimsPrincipal user, SegmentStore store, SegmentCatalog catalog)
    {
        var workspaceId = user.WorkspaceId();
        var existing = await store.ListAsync(workspaceId);
        if (!existing.Any(s => s.Id == id))
        {
            return Problems.NotFound($"No segment '{Clip(id)}' in this workspace.");
        }

        var referring = existing.Where(s => s.Id != id && RuleParser.References(Parse(s.Rule)).Contains(id)).Select(s => s.Id).ToList();
        if (referring.Count > 0)
        {
            return Problems.Conflict($"The segment '{id}' is used by the rules of {string.Join(", ", referring)}; change those first.");
        }

        await store.DeleteAsync(workspaceId, id);
        catalog.Invalidate(workspaceId);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<SegmentPreview>, ProblemHttpResult>> PreviewAsync(
        SegmentDefinition body, ClaimsPrincipal user, SegmentStore store, SegmentPreviewer previewer, CancellationToken cancellationToken)
    {
        if (body.Rule is not { } json)
        {
            return Problems.BadRequest("'rule' is required.");
        }

        if (RuleParser.Parse(json, out var errors) is not { } rule)
        {
            return RuleProblem(errors);
        }

        var known = (await store.ListAsync(user.WorkspaceId(), cancellationToken)).Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        var unknown = RuleParser.References(rule).Where(r => !known.Contains(r)).Distinct(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            return Problems.BadRequest($"The rule refers to segments that do not exist: {string.Join(", ", unknown)}.");
        }

        return TypedResults.Ok(await previewer.PreviewAsync(user.WorkspaceId(), rule, cancellationToken));
    }

    private static async Task<IResult> MembersAsync(
        string id, string? cursor, int? limit, string? format, ClaimsPrincipal user, SegmentStore store, ICustomerDirectory customers, CancellationToken cancellationToken)
    {
        var workspaceId = user.WorkspaceId();
        if (!IdPattern().IsMatch(id) || await store.GetAsync(workspaceId, id, cancellationToken) is null)
        {
            return Problems.NotFound($"No segment '{Clip(id)}' in this workspace.");
        }

        if (format is not (null or "json" or "csv"))
        {
            return Problems.BadRequest("'format' must be json or csv.");
        }

        if (format == "csv")
        {
            return TypedResults.Stream(async stream =>
            {
                await using var writer = new StreamWriter(stream, new UTF8Encoding(false));
                await using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture);
                foreach (var header in new[] { "customer_id", "entered_at", "user_id", "email", "phone", "name" })
                {
                    csv.WriteField(header);
                }

                await csv.NextRecordAsync();
                await foreach (var member in AllMembersAsync(workspaceId, id, store, customers, CancellationToken.None))
                {
                    csv.WriteField(member.CustomerId);
                    csv.WriteField(member.EnteredAt.ToString("O", CultureInfo.InvariantCulture));
                    csv.WriteField(member.UserId);
                    csv.WriteField(member.Email);
                    csv.WriteField(member.Phone);
                    csv.WriteField(member.Name);
                    await csv.NextRecordAsync();
                }
            }, "text/csv", $"segment-{id}.csv");
        }

        var size = limit ?? 100;
        if (size is < 1 or > 1000)
        {
            return Problems.BadRequest("'limit' must be between 1 and 1000.");
        }

        var page = await store.MembersAsync(workspaceId, id, cursor, size + 1, cancellationToken);
        var items = await DescribeAsync(workspaceId, page.Take(size).ToList(), customers, cancellationToken);
        return TypedResults.Ok(new Page<SegmentMember>(items, page.Count > size ? page[size - 1].CustomerId : null));
    }

    private static async IAsyncEnumerable<SegmentMember> AllMembersAsync(
        string workspaceId, string segmentId, SegmentStore store, ICustomerDirectory customers, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var page in MemberPagesAsync(workspaceId, segmentId, store, customers, cancellationToken))
        {
            foreach (var member in page)
            {
                yield return member;
            }
        }
    }

    private static async IAsyncEnumerable<List<SegmentMember>> MemberPagesAsync(
        string workspaceId, string segmentId, SegmentStore store, ICustomerDirectory customers, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? cursor = null;
        while (true)
        {
            var page = await store.MembersAsync(workspaceId, segmentId, cursor, 1000, cancellationToken);
            yield return await DescribeAsync(workspaceId, page, customers, cancellationToken);
            if (page.Count < 1000)
            {
                yield break;
            }

            cursor = page[^1].CustomerId;
        }
    }

    private static async Task<List<SegmentMember>> DescribeAsync(
        string workspaceId, IReadOnlyList<(string CustomerId, DateTimeOffset EnteredAt)> page, ICustomerDirectory customers, CancellationToken cancellationToken)
    {
        var described = await customers.DescribeAsync(workspaceId, page.Select(p => p.CustomerId).ToList(), cancellationToken);
        return page.Select(p => described.TryGetValue(p.CustomerId, out var c)
            ? new SegmentMember(p.CustomerId, p.EnteredAt, c.UserId, c.Email, c.Phone, c.Name)
            : new SegmentMember(p.CustomerId, p.EnteredAt, null, null, null, null)).ToList();
    }

    private static async Task<IResult> AudienceAsync(
        string id, string? platform, ClaimsPrincipal user, SegmentStore store, ICustomerDirectory customers, CancellationToken cancellationToken)
    {
        var workspaceId = user.WorkspaceId();
        if (!IdPattern().IsMatch(id) || await store.GetAsync(workspaceId, id, cancellationToken) is null)
        {
            return Problems.NotFound($"No segment '{Clip(id)}' in this workspace.");
        }

        var target = platform ?? "google";
        if (target is not ("google" or "meta"))
        {
            return Problems.BadRequest("'platform' must be google or meta.");
        }

        return TypedResults.Stream(async stream =>
        {
            await using var writer = new StreamWriter(stream, new UTF8Encoding(false));
            await using var csv = new CsvWriter(writer, CultureInfo.InvariantCulture);
            csv.WriteField(target == "meta" ? "EMAIL" : "Email");
            csv.WriteField(target == "meta" ? "PHONE" : "Phone");
            await csv.NextRecordAsync();
            await foreach (var page in MemberPagesAsync(workspaceId, id, store, customers, CancellationToken.None))
            {
                var withdrawn = (await store.FactsAsync(workspaceId, page.Select(m => m.CustomerId).ToList(), CancellationToken.None))
                    .Where(f => CustomerFacts.FromJson(f.Value).Consents.TryGetValue("advertising", out var advertising) && !advertising)
                    .Select(f => f.Key).ToHashSet(StringComparer.Ordinal);
                foreach (var member in page)
                {
                    if ((member.Email is null && member.Phone is null) || withdrawn.Contains(member.CustomerId))
                    {
                        continue;
                    }

                    csv.WriteField(AudienceHash.Email(member.Email));
                    csv.WriteField(AudienceHash.Phone(member.Phone, target));
                    await csv.NextRecordAsync();
                }
            }
        }, "text/csv", $"audience-{id}-{target}.csv");
    }

    private static async Task<Results<Ok<IReadOnlyList<SegmentMembershipChange>>, ProblemHttpResult>> ChangesAsync(
        string id, long? after, int? limit, ClaimsPrincipal user, SegmentStore store, CancellationToken cancellationToken)
    {
        var workspaceId = user.WorkspaceId();
        if (!IdPattern().IsMatch(id) || await store.GetAsync(workspaceId, id, cancellationToken) is null)
        {
            return Problems.NotFound($"No segment '{Clip(id)}' in this workspace.");
        }

        var changes = await store.ChangesAsync(workspaceId, id, after ?? 0, Math.Clamp(limit ?? 100, 1, 1000), cancellationToken);
        return TypedResults.Ok<IReadOnlyList<SegmentMembershipChange>>(changes
            .Select(c => new SegmentMembershipChange(c.Sequence, c.WorkspaceId, c.SegmentId, c.CustomerId, c.Kind, c.At)).ToList());
    }

    private static async Task<Ok<LifecycleSettings>> LifecycleAsync(ClaimsPrincipal user, SegmentStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok(ToSettings(await store.LifecycleAsync(user.WorkspaceId(), cancellationToken)));

    private static async Task<Results<Ok<LifecycleSettings>, ProblemHttpResult>> PutLifecycleAsync(
        LifecycleSettings body, ClaimsPrincipal user, SegmentStore store, SegmentCatalog catalog, TimeProvider clock)
    {
        var defaults = LifecycleWindows.Default;
        var errors = new List<string>();
        TimeSpan Read(string? value, string name, TimeSpan fallback)
        {
            if (value is null)
            {
                return fallback;
            }

            if (IsoDuration.Parse(value) is { } parsed && parsed > TimeSpan.Zero)
            {
                return parsed;
            }

            errors.Add($"'{name}' must be a positive ISO 8601 duration (e.g. P30D).");
            return fallback;
        }

        var windows = new LifecycleWindows(Read(body.NewWithin, "newWithin", defaults.New), Read(body.ActiveWithin, "activeWithin", defaults.Active), Read(body.LostAfter, "lostAfter", defaults.Lost));
        if (errors.Count == 0 && (windows.New > windows.Active || windows.Active >= windows.Lost))
        {
            errors.Add("The windows must satisfy newWithin <= activeWithin < lostAfter.");
        }

        if (errors.Count > 0)
        {
            return Problems.BadRequest(string.Join(" ", errors), new Dictionary<string, object?> { ["errors"] = errors });
        }

        var workspaceId = user.WorkspaceId();
        await store.SaveLifecycleAsync(workspaceId, windows, clock.GetUtcNow());
        catalog.Invalidate(workspaceId);
        return TypedResults.Ok(ToSettings(windows));
    }

    private static LifecycleSettings ToSettings(LifecycleWindows windows) =>
        new(IsoDuration.Format(windows.New), IsoDuration.Format(windows.Active), IsoDuration.Format(windows.Lost));

    private static async Task<Results<Ok<RfmSummary>, ProblemHttpResult>> RfmAsync(ClaimsPrincipal user, ScoresService scores, CancellationToken cancellationToken) =>
        await scores.LatestAsync(user.WorkspaceId(), cancellationToken) is { } summary
            ? TypedResults.Ok(summary)
            : Problems.NotFound("RFM has not been computed for this workspace yet (POST /api/rfm/recompute, or wait for the periodic run).");

    private static async Task<Ok<RfmSummary>> RecomputeAsync(ClaimsPrincipal user, ScoresService scores, CancellationToken cancellationToken) =>
        TypedResults.Ok((await scores.RecomputeAsync(user.WorkspaceId(), cancellationToken))!);

    /// <summary>Checks name and rule, references and cycles; on success <paramref name="rule"/> is the rule's stored JSON.</summary>
    private static ProblemHttpResult? Validate(string id, SegmentDefinition body, IReadOnlyList<StoredSegment> existing, out string rule)
    {
        rule = string.Empty;
        if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Length > 200)
        {
            return Problems.BadRequest("'name' is required (up to 200 characters).");
        }

        if (body.Description is { Length: > 2000 })
        {
            return Problems.BadRequest("'description' may have up to 2000 characters.");
        }

        if (body.Rule is not { } json)
        {
            return Problems.BadRequest("'rule' is required.");
        }

        rule = json.GetRawText();
        if (rule.Length > MaxRuleBytes)
        {
            return Problems.BadRequest($"'rule' may have up to {MaxRuleBytes / 1024} KB.");
        }

        if (RuleParser.Parse(json, out var errors) is not { } condition)
        {
            return RuleProblem(errors);
        }

        var others = existing.Where(s => s.Id != id).ToDictionary(s => s.Id, s => Parse(s.Rule), StringComparer.Ordinal);
        var unknown = RuleParser.References(condition).Where(r => r != id && !others.ContainsKey(r)).Distinct(StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            return Problems.BadRequest($"The rule refers to segments that do not exist: {string.Join(", ", unknown)}.");
        }

        if (SegmentSet.CycleThrough(id, condition, others) is { } cycle)
        {
            return Problems.BadRequest($"The rule would make segments depend on themselves: {string.Join(" -> ", cycle)}.");
        }

        return null;
    }

    private static Condition Parse(string rule)
    {
        using var document = JsonDocument.Parse(rule);
        return RuleParser.Parse(document.RootElement, out _) ?? new AllOf([]);
    }

    private static ProblemHttpResult RuleProblem(IReadOnlyList<string> errors) =>
        Problems.BadRequest($"The rule is invalid: {errors[0]}{(errors.Count > 1 ? $" (and {errors.Count - 1} more)" : string.Empty)}",
            new Dictionary<string, object?> { ["errors"] = errors.Take(50).ToList() });

    private static string Actor(ClaimsPrincipal user) => user.Identity?.Name ?? user.FindFirstValue(ModulithClaims.KeyId) ?? "api";

    private static string Clip(string text) => text.Length > 64 ? text[..64] + "…" : text;
}

/// <summary>Normalises and hashes identifiers the way ad platforms match them (lower-case trimmed email; E.164 phone).</summary>
internal static class AudienceHash
{
    public static string? Email(string? email) =>
        string.IsNullOrWhiteSpace(email) ? null : Sha256(email.Trim().ToLowerInvariant());

    public static string? Phone(string? phone, string platform)
    {
        if (string.IsNullOrWhiteSpace(phone))
        {
            return null;
        }

        var digits = new string(phone.Where(char.IsAsciiDigit).ToArray());
        return digits.Length == 0 ? null : Sha256(platform == "meta" ? digits : "+" + digits);
    }

    private static string Sha256(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)));
}
