using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Modulith.Host.Orleans;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Durability;

/// <summary>A profile's recent events are not stored with it; they come back from the event log (ADR 0013).</summary>
public sealed class RecentEventsTests
{
    [Fact]
    public async Task Recent_events_are_not_stored_and_come_back_from_the_event_log_after_a_restart_with_those_of_a_merged_profile()
    {
        var data = Scratch.NewDirectory("recent");
        var settings = TestHost.KeySettings("recent");
        var run = Guid.NewGuid().ToString("N")[..8];
        var (known, visitor, userId) = ($"anon-{run}-k", $"anon-{run}-v", $"user-{run}");
        var t0 = DateTimeOffset.UtcNow.AddHours(-1);
        string Stamp(int minutes) => t0.AddMinutes(minutes).ToString("O");
        string survivor, visitorProfile;
        await using (var host = TestHost.StartSqlite(data, settings))
        {
            await host.SendOkAsync("/v1/identify", $$$"""{"anonymousId":"{{{known}}}","userId":"{{{userId}}}","messageId":"{{{run}}}-1","timestamp":"{{{Stamp(1)}}}"}""");
            await host.SendOkAsync("/v1/track", $$$"""{"anonymousId":"{{{visitor}}}","event":"Product Viewed","messageId":"{{{run}}}-2","timestamp":"{{{Stamp(2)}}}"}""");
            await host.SendOkAsync("/v1/track", $$$"""{"anonymousId":"{{{visitor}}}","event":"Product Added","messageId":"{{{run}}}-3","timestamp":"{{{Stamp(3)}}}"}""");
            await host.DrainAsync();
            visitorProfile = (await host.FindCustomerAsync("anonymousId=" + visitor))!;
            await host.SendOkAsync("/v1/identify", $$$"""{"anonymousId":"{{{visitor}}}","userId":"{{{userId}}}","messageId":"{{{run}}}-4","timestamp":"{{{Stamp(4)}}}"}""");
            await host.DrainAsync();
            survivor = (await host.FindCustomerAsync("userId=" + userId))!;
            Assert.NotEqual(survivor, visitorProfile);
            Assert.Equal([$"{run}-4", $"{run}-3", $"{run}-2", $"{run}-1"], RecentMessageIds(await host.ProfileAsync(survivor)));
        }

        var stored = StoredCustomerStates(data);
        Assert.NotEmpty(stored);
        Assert.All(stored, json => Assert.DoesNotContain("recentEvents", json, StringComparison.Ordinal));
        Assert.Contains(stored, json => json.Contains($"{run}-2", StringComparison.Ordinal));

        await using (var restarted = TestHost.StartSqlite(data, settings))
        {
            Assert.Equal([$"{run}-4", $"{run}-3", $"{run}-2", $"{run}-1"], RecentMessageIds(await restarted.ProfileAsync(survivor)));

            // Two events at the same time are listed newest first by their order in the log, as the timeline lists them.
            await restarted.SendOkAsync("/v1/batch", $$$"""{"batch":[{"type":"track","userId":"{{{userId}}}","event":"Checkout Started","messageId":"{{{run}}}-5","timestamp":"{{{Stamp(5)}}}"},{"type":"track","userId":"{{{userId}}}","event":"Payment Info Entered","messageId":"{{{run}}}-6","timestamp":"{{{Stamp(5)}}}"}]}""");
            await restarted.DrainAsync();
            string[] expected = [$"{run}-6", $"{run}-5", $"{run}-4", $"{run}-3", $"{run}-2", $"{run}-1"];
            Assert.Equal(expected, RecentMessageIds(await restarted.ProfileAsync(survivor)));
            var timeline = await restarted.Admin().GetFromJsonAsync<JsonElement>($"/api/customers/{survivor}/timeline");
            Assert.Equal(expected, timeline.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("messageId").GetString()!).ToArray());

            using var unmerge = await restarted.Admin().PostAsJsonAsync($"/api/customers/{survivor}/unmerge", new { customerId = visitorProfile });
            unmerge.EnsureSuccessStatusCode();
            Assert.Equal([$"{run}-3", $"{run}-2"], RecentMessageIds(await restarted.ProfileAsync(visitorProfile)));
            Assert.DoesNotContain($"{run}-2", RecentMessageIds(await restarted.ProfileAsync(survivor)));
        }
    }

    private static string[] RecentMessageIds(JsonElement profile) =>
        [.. profile.GetProperty("recentEvents").EnumerateArray().Select(e => e.GetProperty("messageId").GetString()!)];

    private static List<string> StoredCustomerStates(string dataDirectory)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "modulith.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT PayloadBinary FROM OrleansStorage WHERE GrainTypeString = 'customer'";
        using var reader = command.ExecuteReader();
        var serializer = new JsonGrainStorageSerializer();
        var states = new List<string>();
        while (reader.Read())
        {
            states.Add(serializer.Deserialize<JsonElement>(new BinaryData((byte[])reader[0])).GetRawText());
        }

        return states;
    }
}
