using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Modulith.IntegrationTests.Infrastructure;
using static Modulith.IntegrationTests.Leads.LeadTestKit;

namespace Modulith.IntegrationTests.Leads;

/// <summary>The right to erasure reaches what the Leads and Segmentation modules keep of a person.</summary>
public sealed class LeadErasureTests
{
    [Fact]
    public async Task Erasing_a_customer_removes_the_persons_data_from_their_lead_and_segment_facts_and_keeps_the_stage()
    {
        var data = Scratch.NewDirectory("erasure");
        await using var host = TestHost.StartSqlite(data, TestHost.KeySettings("erasure"));
        var admin = host.Admin();
        await CreateRepAsync(admin, new { id = "bob", name = "Bob" });
        var visitor = "visitor-" + Guid.NewGuid().ToString("N")[..8];
        var id = await QualifyAsMqlAsync(host, admin, host.WriteKey, visitor);
        await SendAsync(host, host.WriteKey, Identify(visitor, DateTimeOffset.UtcNow, $"{visitor}@example.com", new JsonObject { ["firstName"] = "Erinna" }));
        await host.DrainAsync();
        await AddToCartAsync(host, host.WriteKey, visitor);
        using (var contact = await admin.PostAsJsonAsync($"/api/leads/{id}/contact", new { channel = "phone", note = "Erinna asked to call back on Friday" }))
        {
            Assert.Equal(HttpStatusCode.OK, contact.StatusCode);
        }

        var before = StoredLead(data);
        Assert.Contains("Erinna", before);
        Assert.Contains("Product Viewed", before);
        for (var i = 0; i < 50 && !SegmentFacts(data, id).Contains("Erinna", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        Assert.Contains("Erinna", SegmentFacts(data, id));

        using (var erase = await admin.PostAsync($"/api/customers/{id}/erase", null))
        {
            Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
        }

        var after = StoredLead(data);
        Assert.DoesNotContain("Erinna", after);
        Assert.DoesNotContain("Product Viewed", after);
        Assert.DoesNotContain("example.com", after);
        Assert.DoesNotContain("Erinna", SegmentFacts(data, id));

        var lead = await LeadAsync(admin, id);
        Assert.Equal("SQL", lead.GetProperty("stage").GetString());
        Assert.Equal("bob", lead.GetProperty("ownerId").GetString());
        var reasons = lead.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("reason").GetString()).ToList();
        Assert.Contains("contact by phone", reasons);
        Assert.Contains("the person's data was erased", reasons);

        // A changed model rescores every lead; an erased one keeps the score it had.
        var score = lead.GetProperty("score").GetProperty("total").GetDouble();
        var model = await admin.GetFromJsonAsync<JsonObject>("/api/scoring-model");
        using (var put = await admin.PutAsJsonAsync("/api/scoring-model", new JsonObject { ["rules"] = model!["rules"]!.DeepClone(), ["mql"] = model["mql"]!.DeepClone(), ["sql"] = model["sql"]!.DeepClone() }))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        for (var i = 0; i < 100 && !(await admin.GetFromJsonAsync<JsonObject>("/api/scoring-model/rescore"))!["finished"]!.GetValue<bool>(); i++)
        {
            await Task.Delay(100);
        }

        var rescored = (await LeadAsync(admin, id)).GetProperty("score");
        Assert.Equal(score, rescored.GetProperty("total").GetDouble());
        Assert.Equal(1, rescored.GetProperty("modelVersion").GetInt32());
    }

    private static string StoredLead(string dataDirectory)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "modulith.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT PayloadBinary FROM OrleansStorage WHERE GrainTypeString = 'lead'";
        var payload = (byte[])Assert.Single(Rows(command))!;
        if (payload[0] != (byte)'x')
        {
            return Encoding.UTF8.GetString(payload);
        }

        using var inflated = new ZLibStream(new MemoryStream(payload), CompressionMode.Decompress);
        using var reader = new StreamReader(inflated, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static string SegmentFacts(string dataDirectory, string customerId)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "modulith.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT facts FROM segment_facts WHERE customer_id = $c";
        command.Parameters.AddWithValue("$c", customerId);
        return Rows(command).SingleOrDefault() as string ?? string.Empty;
    }

    private static List<object?> Rows(SqliteCommand command)
    {
        using var reader = command.ExecuteReader();
        var rows = new List<object?>();
        while (reader.Read())
        {
            rows.Add(reader.GetValue(0));
        }

        return rows;
    }
}
