using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Modulith.IntegrationTests.Infrastructure;
using Modulith.SharedKernel.Storage;

namespace Modulith.IntegrationTests.Durability;

/// <summary>
/// An erasure can arrive while some of the person's events are acknowledged but not applied yet (dispatch runs behind
/// ingestion). Those events must not bring the person back as a new profile once the old one is gone.
/// </summary>
public sealed class ErasureBeforeDispatchTests
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public async Task Erasing_a_person_also_erases_their_events_still_waiting_for_dispatch_and_none_of_them_starts_a_new_profile(string mode)
    {
        await using var host = mode == "sqlite"
            ? TestHost.StartSqlite()
            : TestHost.StartPostgres(await Postgres.CreateDatabaseAsync(), "erase-" + Guid.NewGuid().ToString("N")[..8]);
        var visitor = "erase-pending-" + Guid.NewGuid().ToString("N")[..8];
        var email = $"first+{visitor}@example.com";
        await host.SendOkAsync("/v1/identify", $$$"""{"anonymousId":"{{{visitor}}}","messageId":"{{{visitor}}}-1","traits":{"email":"{{{email}}}","phone":"+48 600 123 456"}}""");
        await host.DrainAsync();
        var customerId = (await host.FindCustomerAsync("anonymousId=" + visitor))!;

        // The same visitor's next identify, committed to the log but not applied: a partition drains when it is nudged,
        // and a row written straight into the log nudges nobody (the one-minute reminder aside).
        var laterEmail = $"later-{visitor}@example.com";
        // And an identify from a new device that names the person only by their email, written in capitals.
        var newDevice = "device-" + visitor;
        var phoneDevice = "phone-device-" + visitor;
        var olderDevice = "older-device-" + visitor;
        await using (var connection = await host.Services.GetRequiredService<Database>().OpenForWriteAsync())
        {
            await using var insert = connection.Command("""
                INSERT INTO events (workspace_id, message_id, partition, type, name, user_id, anonymous_id, previous_id, ts, received, payload)
                SELECT workspace_id, @m2, partition, type, name, user_id, anonymous_id, previous_id, ts + 1, received + 1,
                       REPLACE(REPLACE(payload, @m1, @m2), @email, @later)
                FROM events WHERE message_id = @m1
                """).With("m1", visitor + "-1").With("m2", visitor + "-2").With("email", email).With("later", laterEmail);
            Assert.Equal(1, await insert.ExecuteNonQueryAsync());
            await using var fromNewDevice = connection.Command("""
                INSERT INTO events (workspace_id, message_id, partition, type, name, user_id, anonymous_id, previous_id, ts, received, payload)
                SELECT workspace_id, @m3, partition, type, name, user_id, @deviceId, previous_id, ts + 2, received + 2,
                       REPLACE(REPLACE(REPLACE(payload, @m1, @m3), @visitor, @device), @email, @capitals)
                FROM events WHERE message_id = @m1
                """).With("m1", visitor + "-1").With("m3", visitor + "-3").With("visitor", "\"" + visitor + "\"").With("device", "\"" + newDevice + "\"").With("deviceId", newDevice)
                .With("email", "\"" + email + "\"").With("capitals", "\"" + email.ToUpperInvariant() + "\"");
            Assert.Equal(1, await fromNewDevice.ExecuteNonQueryAsync());

            // And one from a third device that names the person only by their phone, written another way.
            await using var byPhone = connection.Command("""
                INSERT INTO events (workspace_id, message_id, partition, type, name, user_id, anonymous_id, previous_id, ts, received, payload)
                SELECT workspace_id, @m4, partition, type, name, user_id, @deviceId, previous_id, ts + 3, received + 3,
                       REPLACE(REPLACE(REPLACE(REPLACE(payload, @m1, @m4), @visitor, @device), @emailTrait, ''), '600 123 456', '600-123-456')
                FROM events WHERE message_id = @m1
                """).With("m1", visitor + "-1").With("m4", visitor + "-4").With("visitor", "\"" + visitor + "\"").With("device", "\"" + phoneDevice + "\"")
                .With("deviceId", phoneDevice).With("emailTrait", $"\"email\":\"{email}\",");
            Assert.Equal(1, await byPhone.ExecuteNonQueryAsync());
            await using var phoneOnly = connection.Command("SELECT payload FROM events WHERE message_id = @m4").With("m4", visitor + "-4");
            var payload = (string)(await phoneOnly.ExecuteScalarAsync())!;
            Assert.DoesNotContain("@", payload, StringComparison.Ordinal);
            Assert.Contains("600-123-456", payload, StringComparison.Ordinal);

            // And one stored as earlier versions stored payloads: the plus sign of the email as a \u escape.
            await using var asStoredBefore = connection.Command("""
                INSERT INTO events (workspace_id, message_id, partition, type, name, user_id, anonymous_id, previous_id, ts, received, payload)
                SELECT workspace_id, @m5, partition, type, name, user_id, @deviceId, previous_id, ts + 4, received + 4,
                       REPLACE(REPLACE(REPLACE(REPLACE(payload, @m1, @m5), @visitor, @device), @email, @escaped), @phoneTrait, '')
                FROM events WHERE message_id = @m1
                """).With("m1", visitor + "-1").With("m5", visitor + "-5").With("visitor", "\"" + visitor + "\"").With("device", "\"" + olderDevice + "\"")
                .With("deviceId", olderDevice).With("email", "\"" + email + "\"").With("escaped", "\"" + email.Replace("+", "\\u002B", StringComparison.Ordinal) + "\"")
                .With("phoneTrait", ",\"phone\":\"+48 600 123 456\"");
            Assert.Equal(1, await asStoredBefore.ExecuteNonQueryAsync());
            await using var escaped = connection.Command("SELECT payload FROM events WHERE message_id = @m5").With("m5", visitor + "-5");
            var escapedPayload = (string)(await escaped.ExecuteScalarAsync())!;
            Assert.Contains("\\u002B", escapedPayload, StringComparison.Ordinal);
            Assert.DoesNotContain("123 456", escapedPayload, StringComparison.Ordinal);
        }

        var admin = host.Admin();
        using (var erase = await admin.PostAsync($"/api/customers/{customerId}/erase", null))
        {
            Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
            Assert.Equal(5, (await erase.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventsErased").GetInt32());
        }

        await using (var connection = await host.Services.GetRequiredService<Database>().OpenAsync())
        {
            await using var select = connection.Command("SELECT payload FROM events WHERE message_id IN (@m2, @m3, @m4, @m5)")
                .With("m2", visitor + "-2").With("m3", visitor + "-3").With("m4", visitor + "-4").With("m5", visitor + "-5");
            await using var reader = await select.ExecuteReaderAsync();
            var read = 0;
            while (await reader.ReadAsync())
            {
                read++;
                Assert.DoesNotContain("example.com", reader.GetString(0), StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain("600", reader.GetString(0), StringComparison.Ordinal);
            }

            Assert.Equal(4, read);
        }

        // Dispatch then passes over the erased event: nothing pending, nothing parked, nobody found.
        await host.DrainAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var status = await admin.GetFromJsonAsync<JsonElement>("/api/ingestion/status");
        Assert.Equal(0, status.GetProperty("pending").GetInt64());
        Assert.Equal(0, status.GetProperty("parked").GetInt64());
        Assert.Null(await host.FindCustomerAsync("anonymousId=" + visitor));
        Assert.Null(await host.FindCustomerAsync("anonymousId=" + newDevice));
        Assert.Null(await host.FindCustomerAsync("anonymousId=" + phoneDevice));
        Assert.Null(await host.FindCustomerAsync("anonymousId=" + olderDevice));
        Assert.Null(await host.FindCustomerAsync("phone=" + Uri.EscapeDataString("+48600123456")));
        Assert.Null(await host.FindCustomerAsync("email=" + Uri.EscapeDataString(laterEmail)));
        Assert.Null(await host.FindCustomerAsync("email=" + Uri.EscapeDataString(email)));
    }
}
