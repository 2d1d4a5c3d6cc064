using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Modulith.Connectors.Sdk;
using Modulith.Host.Connectors;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Connectors;

/// <summary>The SMS plugin against a local gateway that answers like SMSAPI, and its delivery reports.</summary>
public sealed class SmsConnectorTests(PluginHostFixture fixture) : IClassFixture<PluginHostFixture>, IAsyncLifetime
{
    private readonly List<Dictionary<string, string>> _sent = [];
    private readonly HashSet<string> _idx = [];
    private readonly int _port = TestHost.FreePort();
    private WebApplication _gateway = null!;

    private TestHost Host => fixture.Host;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{_port}");
        _gateway = builder.Build();
        _gateway.MapPost("/sms.do", async (HttpContext context) =>
        {
            if (context.Request.Headers.Authorization.ToString() != "Bearer sms-token")
            {
                return Results.Json(new { error = 101, message = "Authorization failed" });
            }

            var form = (await context.Request.ReadFormAsync()).ToDictionary(f => f.Key, f => f.Value.ToString());
            lock (_sent)
            {
                _sent.Add(form);
                if (form["to"] == "48500000500")
                {
                    return Results.StatusCode(503);
                }

                if (form["to"] == "48111111111")
                {
                    return Results.Json(new { error = 13, message = "No correct phone numbers" });
                }

                if (!_idx.Add(form["idx"]))
                {
                    return Results.Json(new { error = 105, message = "idx already used" });
                }
            }

            return Results.Json(new { count = 1, list = new[] { new { id = "GW-" + form["idx"], points = 0.16, number = form["to"], status = "QUEUE", idx = form["idx"] } } });
        });
        await _gateway.StartAsync();
    }

    public async Task DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task Sends_are_authenticated_idempotent_by_client_id_and_failures_are_classified()
    {
        var sms = Host.Services.GetRequiredService<PluginCatalog>().Plugins.Single(p => p.Manifest?.Id == "sms").Channel!;
        var settings = new ConnectorSettings("ci_sms", "shop-a", new Dictionary<string, string>
        {
            ["apiUrl"] = $"http://127.0.0.1:{_port}",
            ["token"] = "sms-token",
            ["from"] = "Shop",
            ["callbackToken"] = "cb",
        });
        var message = new OutboundMessage("sms-key-1", "+48600111222", null, "Cart waiting: 10% off today", null, null, Transactional: false);

        var first = await sms.SendAsync(message, settings, CancellationToken.None);
        var again = await sms.SendAsync(message, settings, CancellationToken.None);
        Assert.Equal(DeliveryStatus.Sent, first.Status);
        Assert.Equal("GW-sms-key-1", first.ProviderMessageId);
        Assert.Equal(DeliveryStatus.Sent, again.Status); // the gateway refused the repeated idx: already out
        Assert.Equal("48600111222", _sent[0]["to"]);
        Assert.Equal("1", _sent[0]["check_idx"]);
        Assert.Equal("Shop", _sent[0]["from"]);

        Assert.Equal(DeliveryStatus.TransientFailure, (await sms.SendAsync(message with { IdempotencyKey = "k2", Recipient = "+48500000500" }, settings, CancellationToken.None)).Status);
        Assert.Equal(DeliveryStatus.Rejected, (await sms.SendAsync(message with { IdempotencyKey = "k3", Recipient = "+48111111111" }, settings, CancellationToken.None)).Status);
        Assert.Equal(DeliveryStatus.Rejected, (await sms.SendAsync(message with { IdempotencyKey = "k4", Recipient = "call me" }, settings, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Delivery_reports_reach_the_recipients_profile_and_a_wrong_token_is_refused()
    {
        var (_, admin, writeKey) = await Host.CreateWorkspaceAsync("SMS shop");
        await Host.SendOkAsync("/v1/identify", """{"userId":"sms-user","traits":{"phone":"+48 600 111 333"}}""", writeKey);
        using var instance = await admin.PostAsJsonAsync("/api/connector-instances", new
        {
            connectorId = "sms",
            name = "gateway",
            settings = new Dictionary<string, string> { ["apiUrl"] = $"http://127.0.0.1:{_port}", ["token"] = "sms-token", ["callbackToken"] = "cb-secret" },
        });
        var id = (await instance.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        using var forged = await Host.Client.PostAsync($"/webhooks/{id}?token=nope", new StringContent("MsgId=GW-1&status=404&idx=k&to=48600111333", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        using var report = await Host.Client.PostAsync($"/webhooks/{id}?token=cb-secret", new StringContent("MsgId=GW-1,GW-2&status=404,403&idx=k1,k2&to=48600111333,48600111333&donedate=1795400000,1795400001", Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.Equal(1, (await report.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("events").GetInt32());

        await Host.DrainAsync();
        var profile = await Host.ProfileAsync((await Host.FindCustomerAsync("userId=sms-user", admin))!, admin);
        Assert.Equal(1, profile.GetProperty("metrics").GetProperty("eventCounts").GetProperty("SMS Delivered").GetInt32());
    }
}
