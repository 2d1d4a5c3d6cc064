using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Http;

public sealed class CustomerViewTests(SqliteHostFixture fixture) : IClassFixture<SqliteHostFixture>
{
    private TestHost Host => fixture.Host;

    private static string Id() => Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Erasing_a_customer_removes_their_data_from_profiles_index_search_and_stored_events()
    {
        var (anonymousId, userId, email) = ("anon-" + Id(), "user-" + Id(), $"{Id()}@example.com");
        await Host.SendOkAsync("/v1/page", $$$"""{"anonymousId":"{{{anonymousId}}}","name":"Home"}""");
        await Host.DrainAsync();
        await Host.SendOkAsync("/v1/identify", $$$"""{"anonymousId":"{{{anonymousId}}}","userId":"{{{userId}}}","traits":{"email":"{{{email}}}","firstName":"Erin"}}""");
        await Host.SendOkAsync("/v1/track", $$$"""{"userId":"{{{userId}}}","event":"Order Completed","properties":{"order_id":"o-{{{userId}}}","revenue":10}}""");
        await Host.DrainAsync();
        var id = (await Host.FindCustomerAsync("userId=" + userId))!;

        using var erase = await Host.Admin().PostAsync($"/api/customers/{id}/erase", null);
        Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
        var erased = await erase.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(id, erased.GetProperty("customerId").GetString());
        Assert.True(erased.GetProperty("identitiesReleased").GetInt32() >= 3);
        Assert.Equal(3, erased.GetProperty("eventsErased").GetInt32());

        Assert.Equal(HttpStatusCode.NotFound, (await Host.Admin().GetAsync($"/api/customers/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Admin().GetAsync($"/api/customers/{id}/timeline")).StatusCode);
        Assert.Null(await Host.FindCustomerAsync("userId=" + userId));
        Assert.Null(await Host.FindCustomerAsync("email=" + email));
        Assert.Null(await Host.FindCustomerAsync("anonymousId=" + anonymousId));
        Assert.Empty((await Host.Admin().GetFromJsonAsync<JsonElement>("/api/customers?q=" + userId)).GetProperty("items").EnumerateArray());

        // Erasing again changes nothing; a new event with the same email starts a new, separate profile.
        using var again = await Host.Admin().PostAsync($"/api/customers/{id}/erase", null);
        Assert.Equal(0, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventsErased").GetInt32());
        await Host.SendOkAsync("/v1/identify", $$$"""{"userId":"{{{userId}}}","traits":{"email":"{{{email}}}"}}""");
        await Host.DrainAsync();
        var fresh = await Host.FindCustomerAsync("email=" + email);
        Assert.NotNull(fresh);
        Assert.NotEqual(id, fresh);
        Assert.False((await Host.ProfileAsync(fresh!)).GetProperty("traits").TryGetProperty("firstName", out _));
        Assert.Equal(HttpStatusCode.NotFound, (await Host.Admin().PostAsync("/api/customers/cus_00000000000000000000000000000000/erase", null)).StatusCode);
    }

    [Fact]
    public async Task Identify_track_page_and_alias_build_one_profile_found_by_every_identifier()
    {
        var (anonymousId, userId, email) = ("anon-" + Id(), "user-" + Id(), $"{Id()}@Example.com");
        await Host.SendOkAsync("/v1/page", $$$$"""{"anonymousId":"{{{{anonymousId}}}}","name":"Home","context":{"page":{"url":"https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=bf"}}}""");
        await Host.SendOkAsync("/v1/track", $$$"""{"anonymousId":"{{{anonymousId}}}","event":"Product Viewed","properties":{"product_id":"p1"}}""");
        await Host.SendOkAsync("/v1/identify", $$$"""{"anonymousId":"{{{anonymousId}}}","userId":"{{{userId}}}","traits":{"email":"{{{email}}}","firstName":"Ada"}}""");
        await Host.SendOkAsync("/v1/alias", $$$"""{"previousId":"legacy-{{{userId}}}","userId":"{{{userId}}}"}""");
        await Host.SendOkAsync("/v1/track", $$$"""{"userId":"{{{userId}}}","event":"Order Completed","properties":{"order_id":"o-{{{userId}}}","revenue":42.5,"currency":"EUR"}}""");
        await Host.DrainAsync();

        var byUser = await Host.FindCustomerAsync("userId=" + userId);
        Assert.NotNull(byUser);
        Assert.Equal(byUser, await Host.FindCustomerAsync("anonymousId=" + anonymousId));
        Assert.Equal(byUser, await Host.FindCustomerAsync("email=" + Uri.EscapeDataString(email.ToUpperInvariant())));
        Assert.Equal(byUser, await Host.FindCustomerAsync("anonymousId=legacy-" + userId));

        var profile = await Host.ProfileAsync(byUser!);
        Assert.Equal(5, profile.GetProperty("metrics").GetProperty("events").GetInt32());
        Assert.Equal(1, profile.GetProperty("orders").GetProperty("count").GetInt32());
        Assert.Equal(42.5m, profile.GetProperty("orders").GetProperty("revenue").GetDecimal());
        Assert.Equal("email", profile.GetProperty("touchpoints")[0].GetProperty("channel").GetString());
        var kinds = profile.GetProperty("identities").EnumerateArray().Select(i => i.GetProperty("kind").GetString()).ToList();
        Assert.Contains("email", kinds);

        var timeline = await Host.Admin().GetFromJsonAsync<JsonElement>($"/api/customers/{byUser}/timeline");
        Assert.Equal(5, timeline.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task An_anonymous_profile_is_merged_when_the_visitor_identifies_and_the_merge_can_be_undone()
    {
        var (known, visitor, userId) = ("anon-" + Id(), "anon-" + Id(), "user-" + Id());
        await Host.SendOkAsync("/v1/identify", $$$"""{"anonymousId":"{{{known}}}","userId":"{{{userId}}}"}""");
        await Host.SendOkAsync("/v1/track", $$$"""{"anonymousId":"{{{visitor}}}","event":"Product Viewed"}""");
        await Host.SendOkAsync("/v1/track", $$$"""{"anonymousId":"{{{visitor}}}","event":"Product Viewed"}""");
        await Host.DrainAsync();
        var survivor = (await Host.FindCustomerAsync("userId=" + userId))!;
        var visitorProfile = (await Host.FindCustomerAsync("anonymousId=" + visitor))!;
        Assert.NotEqual(survivor, visitorProfile);

        await Host.SendOkAsync("/v1/identify", $$$"""{"anonymousId":"{{{visitor}}}","userId":"{{{userId}}}"}""");
        await Host.DrainAsync();
        Assert.Equal(survivor, await Host.FindCustomerAsync("anonymousId=" + visitor));
        var merged = await Host.ProfileAsync(survivor);
        Assert.Equal(2, merged.GetProperty("metrics").GetProperty("productViews").GetInt32());
        Assert.Equal(visitorProfile, merged.GetProperty("mergedFrom")[0].GetProperty("customerId").GetString());
        Assert.Equal(survivor, (await Host.ProfileAsync(visitorProfile)).GetProperty("id").GetString());

        // A later event for the merged-away id reaches the survivor.
        await Host.SendOkAsync("/v1/track", $$$"""{"anonymousId":"{{{visitor}}}","event":"Product Viewed"}""");
        await Host.DrainAsync();
        Assert.Equal(3, (await Host.ProfileAsync(survivor)).GetProperty("metrics").GetProperty("productViews").GetInt32());
        var timeline = await Host.Admin().GetFromJsonAsync<JsonElement>($"/api/customers/{survivor}/timeline?limit=2");
        Assert.Equal(2, timeline.GetProperty("items").GetArrayLength());
        var next = timeline.GetProperty("nextCursor").GetString();
        var rest = await Host.Admin().GetFromJsonAsync<JsonElement>($"/api/customers/{survivor}/timeline?limit=50&cursor={next}");
        Assert.Equal(3, rest.GetProperty("items").GetArrayLength());

        using var unmerge = await Host.Admin().PostAsJsonAsync($"/api/customers/{survivor}/unmerge", new { customerId = visitorProfile });
        Assert.Equal(HttpStatusCode.OK, unmerge.StatusCode);
        Assert.Equal(visitorProfile, await Host.FindCustomerAsync("anonymousId=" + visitor));
        var restored = await Host.ProfileAsync(visitorProfile);
        Assert.Equal(visitorProfile, restored.GetProperty("id").GetString());
        Assert.Equal(2, restored.GetProperty("metrics").GetProperty("productViews").GetInt32());
        var after = await Host.ProfileAsync(survivor);
        Assert.Empty(after.GetProperty("mergedFrom").EnumerateArray());
        Assert.DoesNotContain(after.GetProperty("identities").EnumerateArray(), i => i.GetProperty("value").GetString() == visitor);
    }

    [Fact]
    public async Task Two_different_user_ids_are_never_merged_and_the_conflict_is_recorded()
    {
        var (first, second, email) = ("user-" + Id(), "user-" + Id(), Id() + "@example.com");
        await Host.SendOkAsync("/v1/identify", $$$"""{"userId":"{{{first}}}","traits":{"email":"{{{email}}}"}}""");
        await Host.DrainAsync();
        await Host.SendOkAsync("/v1/identify", $$$"""{"userId":"{{{second}}}","traits":{"email":"{{{email}}}"}}""");
        await Host.DrainAsync();

        var a = (await Host.FindCustomerAsync("userId=" + first))!;
        var b = (await Host.FindCustomerAsync("userId=" + second))!;
        Assert.NotEqual(a, b);
        Assert.Equal(a, await Host.FindCustomerAsync("email=" + email));
        var conflict = (await Host.ProfileAsync(a)).GetProperty("conflicts")[0];
        Assert.Equal(b, conflict.GetProperty("otherCustomerId").GetString());
        Assert.DoesNotContain((await Host.ProfileAsync(b)).GetProperty("identities").EnumerateArray(), i => i.GetProperty("kind").GetString() == "email");
    }

    [Fact]
    public async Task Text_search_finds_by_name_and_pages()
    {
        var tag = "zq" + Id();
        for (var i = 0; i < 3; i++)
        {
            await Host.SendOkAsync("/v1/identify", $$$"""{"userId":"{{{tag}}}-{{{i}}}","traits":{"name":"Customer {{{tag}}}"}}""");
        }

        await Host.DrainAsync();
        var first = await Host.Admin().GetFromJsonAsync<JsonElement>($"/api/customers?q={tag}&limit=2");
        Assert.Equal(2, first.GetProperty("items").GetArrayLength());
        var second = await Host.Admin().GetFromJsonAsync<JsonElement>($"/api/customers?q={tag}&limit=2&cursor={first.GetProperty("nextCursor").GetString()}");
        Assert.Equal(1, second.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, second.GetProperty("nextCursor").ValueKind);
    }

    [Theory]
    [InlineData("/api/customers/cus_doesnotexist", HttpStatusCode.NotFound)]
    [InlineData("/api/customers/cus_doesnotexist/timeline", HttpStatusCode.NotFound)]
    [InlineData("/api/customers?email=not-an-email", HttpStatusCode.BadRequest)]
    [InlineData("/api/customers?phone=12", HttpStatusCode.BadRequest)]
    [InlineData("/api/customers?limit=0", HttpStatusCode.BadRequest)]
    public async Task Unknown_customers_and_bad_queries_get_problems(string url, HttpStatusCode status)
    {
        using var response = await Host.Admin().GetAsync(url);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
