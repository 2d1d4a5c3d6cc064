using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Modulith.Leads.Contracts;
using Modulith.Leads.Reports;
using Modulith.Leads.Storage;
using Modulith.SharedKernel.Security;
using Modulith.SharedKernel.Web;

namespace Modulith.Leads.Endpoints;

internal static class ReportEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var reports = app.MapGroup("/api/reports/leads").WithTags("Reports");
        reports.MapGet("/quality", QualityAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("Lead quality per source and campaign for leads created in [from, to): MQL -> SQL -> accepted -> customer counts and rates, rejection reasons. format=csv for CSV.")
            .Produces<IReadOnlyList<LeadQualityRow>>(StatusCodes.Status200OK, "application/json", "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();
        reports.MapGet("/sla", SlaAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("SLA attainment, breaches and speed to lead per rep and team, for SLA clocks started in [from, to). format=csv for CSV (reps, then teams).")
            .Produces<SlaReport>(StatusCodes.Status200OK, "application/json", "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();
        reports.MapGet("/mql-commitment", CommitmentAsync).RequireAuthorization(Policies.ReadCustomers)
            .WithSummary("MQLs in [from, to) against marketing's commitment (MQLs per month from the SLA agreement, prorated by days). format=csv for CSV.")
            .Produces<MqlCommitmentReport>(StatusCodes.Status200OK, "application/json", "text/csv")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesAuthProblems();
    }

    private static async Task<IResult> QualityAsync(ClaimsPrincipal user, LeadReportStore store, TimeProvider clock, string? from, string? to, string? format, CancellationToken cancellationToken)
    {
        var (start, end, error) = Period(from, to, format, clock);
        if (error is not null)
        {
            return Problems.BadRequest(error);
        }

        var rows = LeadReportMath.Quality(await store.ReadAsync(user.WorkspaceId(), start, end, cancellationToken), start, end);
        return format == "csv"
            ? TypedResults.Text(LeadReportMath.Csv(
                ["channel", "source", "campaign", "leads", "mqls", "sqls", "accepted", "rejected", "customers", "mql_to_sql", "sql_to_accepted", "accepted_to_customer", "rejection_reasons"],
                rows.Select(r => new object?[] { r.Channel, r.Source, r.Campaign, r.Leads, r.Mqls, r.Sqls, r.Accepted, r.Rejected, r.Customers, r.MqlToSqlRate, r.SqlToAcceptedRate, r.AcceptedToCustomerRate,
                    string.Join(';', r.RejectionReasons.Select(p => $"{p.Key}={p.Value}")) })), "text/csv")
            : TypedResults.Ok(rows);
    }

    private static async Task<IResult> SlaAsync(ClaimsPrincipal user, LeadReportStore store, SalesRepStore reps, TimeProvider clock, string? from, string? to, string? format, CancellationToken cancellationToken)
    {
        var (start, end, error) = Period(from, to, format, clock);
        if (error is not null)
        {
            return Problems.BadRequest(error);
        }

        var workspaceId = user.WorkspaceId();
        var leads = await store.ReadAsync(workspaceId, start, end, cancellationToken);
        var teams = (await reps.ListAsync(workspaceId, cancellationToken)).ToDictionary(r => r.Id!, r => r.Team ?? "(none)", StringComparer.Ordinal);
        var report = new SlaReport(start, end,
            LeadReportMath.Sla(leads, l => l.OwnerId ?? "(none)", start, end),
            LeadReportMath.Sla(leads, l => l.OwnerId is { } owner ? teams.GetValueOrDefault(owner, "(none)") : "(none)", start, end));
        return format == "csv"
            ? TypedResults.Text(LeadReportMath.Csv(
                ["level", "key", "clocks", "met", "breached", "open", "attainment", "median_seconds_to_contact", "p90_seconds_to_contact"],
                report.Reps.Select(r => ("rep", r)).Concat(report.Teams.Select(r => ("team", r)))
                    .Select(x => new object?[] { x.Item1, x.r.Key, x.r.Clocks, x.r.Met, x.r.Breached, x.r.Open, x.r.Attainment, x.r.MedianSecondsToContact, x.r.P90SecondsToContact })), "text/csv")
            : TypedResults.Ok(report);
    }

    private static async Task<IResult> CommitmentAsync(ClaimsPrincipal user, LeadReportStore store, SlaAgreementStore agreements, TimeProvider clock, string? from, string? to, string? format, CancellationToken cancellationToken)
    {
        var (start, end, error) = Period(from, to, format, clock);
        if (error is not null)
        {
            return Problems.BadRequest(error);
        }

        var workspaceId = user.WorkspaceId();
        var commitment = (await agreements.GetAsync(workspaceId, cancellationToken)).MarketingCommitment?.MqlPerMonth;
        var report = LeadReportMath.Commitment(await store.ReadAsync(workspaceId, start, end, cancellationToken), start, end, commitment);
        return format == "csv"
            ? TypedResults.Text(LeadReportMath.Csv(["from", "to", "mqls", "committed", "attainment", "accepted_of_mqls"],
                [[report.From.ToString("O", CultureInfo.InvariantCulture), report.To.ToString("O", CultureInfo.InvariantCulture), report.Mqls, report.Committed, report.Attainment, report.AcceptedOfMqls]]), "text/csv")
            : TypedResults.Ok(report);
    }

    /// <summary>[from, to) (see <see cref="ReportPeriod"/>) and the answer's format.</summary>
    private static (DateTimeOffset From, DateTimeOffset To, string? Error) Period(string? from, string? to, string? format, TimeProvider clock) =>
        format is not (null or "json" or "csv") ? (default, default, "'format' is json or csv.") : ReportPeriod.Parse(from, to, clock);
}
