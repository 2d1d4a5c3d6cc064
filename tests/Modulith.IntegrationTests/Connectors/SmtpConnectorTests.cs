using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Modulith.Connectors.Sdk;
using Modulith.Host.Connectors;
using Modulith.IntegrationTests.Infrastructure;

namespace Modulith.IntegrationTests.Connectors;

/// <summary>The SMTP plugin against a real SMTP server on loopback (aiosmtpd, installed by tests/run-tests.sh), which writes a Maildir.</summary>
public sealed class SmtpConnectorTests(PluginHostFixture fixture) : IClassFixture<PluginHostFixture>, IAsyncLifetime
{
    private readonly string _maildir = Scratch.NewDirectory("maildir");
    private readonly int _port = TestHost.FreePort();
    private Process? _server;

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists("/usr/bin/python3"), "The system Python is needed for aiosmtpd: run tests/run-tests.sh.");
        _server = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{_port}", "-c", "aiosmtpd.handlers.Mailbox", _maildir])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync("127.0.0.1", _port);
                return;
            }
            catch (SocketException)
            {
                if (_server.HasExited)
                {
                    Assert.Fail("aiosmtpd did not start (is python3-aiosmtpd installed?): " + await _server.StandardError.ReadToEndAsync());
                }

                await Task.Delay(100);
            }
        }

        Assert.Fail("aiosmtpd did not open its port.");
    }

    public Task DisposeAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill();
        }

        _server?.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_marketing_email_arrives_with_both_bodies_and_both_unsubscribe_headers_and_is_sent_once()
    {
        var channel = Smtp();
        var message = new OutboundMessage("bf-2026-jane", "Jane Doe <jane@example.com>", "Black Friday", "Hi Jane, 30% off.", "<p>Hi Jane, <b>30% off</b>.</p>",
            new Dictionary<string, string> { ["unsubscribeToken"] = "tok-123" }, Transactional: false);

        var first = await channel.SendAsync(message, Settings(), CancellationToken.None);
        var again = await channel.SendAsync(message, Settings(), CancellationToken.None);

        Assert.Equal(DeliveryStatus.Sent, first.Status);
        Assert.Equal(DeliveryStatus.Sent, again.Status);
        Assert.Equal(first.ProviderMessageId, again.ProviderMessageId);
        var mail = Assert.Single(Delivered());
        Assert.Contains("List-Unsubscribe: <https://shop.example/unsubscribe?token=tok-123>, <mailto:unsubscribe@shop.example?subject=unsubscribe-tok-123>", mail);
        Assert.Contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click", mail);
        Assert.Contains("Message-Id: <bf-2026-jane@shop.example>", mail, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("multipart/alternative", mail);
        Assert.Contains("Hi Jane, 30% off.", mail);
        Assert.Contains("<b>30% off</b>", mail);
    }

    [Fact]
    public async Task An_email_queued_through_the_api_is_rendered_from_its_templates_and_arrives_with_the_unsubscribe_headers()
    {
        var admin = fixture.Host.Admin();
        using var created = await admin.PostAsJsonAsync("/api/connector-instances", new
        {
            connectorId = "smtp",
            name = "newsletter",
            settings = new Dictionary<string, string>
            {
                ["host"] = "127.0.0.1",
                ["port"] = _port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["security"] = "none",
                ["from"] = "Shop <news@shop.example>",
                ["unsubscribeUrl"] = "https://shop.example/unsubscribe",
                ["unsubscribeMailto"] = "unsubscribe@shop.example",
                ["password"] = "never-logged",
            },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var instance = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        using var queued = await admin.PostAsJsonAsync($"/api/connector-instances/{instance}/messages", new
        {
            recipient = "jane@example.com",
            subject = "{{name}}, {{discount}}% off this weekend",
            text = "Hi {{name}},\n{{#each items}}- {{this}}\n{{/each}}",
            html = "<h1>Hi {{name}}</h1><ul>{{#each items}}<li>{{this}}</li>{{/each}}</ul>",
            data = new { name = "Jane & Co", discount = 30, items = new[] { "Boots", "Scarf" } },
            headers = new Dictionary<string, string> { ["unsubscribeToken"] = "tok-jane" },
        });
        Assert.Equal(HttpStatusCode.Accepted, queued.StatusCode);
        var id = (await queued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        await WaitForStatusAsync(admin, instance!, id!, "sent");

        var mail = Assert.Single(Delivered());
        Assert.Contains("Subject: Jane & Co, 30% off this weekend", mail);
        await AssertARefusedRecipientIsABounceOnTheProfileAsync(admin, instance!);
        Assert.Contains("- Boots", mail);
        Assert.Contains("- Scarf", mail);
        Assert.Contains("<h1>Hi Jane &amp; Co</h1><ul><li>Boots</li><li>Scarf</li></ul>", mail);
        Assert.Contains("List-Unsubscribe: <https://shop.example/unsubscribe?token=tok-jane>", mail);
        Assert.Contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click", mail);
        Assert.Contains($"Message-Id: <{id}@shop.example>", mail, StringComparison.OrdinalIgnoreCase);
    }

    private async Task AssertARefusedRecipientIsABounceOnTheProfileAsync(HttpClient admin, string instance)
    {
        // An address no server can deliver to is refused for good: a bounce, recorded on the recipient's profile.
        using var queued = await admin.PostAsJsonAsync($"/api/connector-instances/{instance}/messages", new { recipient = "bouncer@", text = "Hi" });
        var id = (await queued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        await WaitForStatusAsync(admin, instance, id!, "rejected");

        await fixture.Host.DrainAsync();
        var bouncer = await fixture.Host.FindCustomerAsync("anonymousId=" + Uri.EscapeDataString("email:bouncer@"), admin);
        Assert.NotNull(bouncer);
        var counts = (await fixture.Host.ProfileAsync(bouncer!, admin)).GetProperty("metrics").GetProperty("eventCounts");
        Assert.Equal(1, counts.GetProperty("Email Bounced").GetInt32());
    }

    [Fact]
    public async Task A_transactional_email_has_no_unsubscribe_headers_and_a_bad_recipient_is_rejected()
    {
        var channel = Smtp();
        var sent = await channel.SendAsync(new OutboundMessage("order-1001-shipped", "jane@example.com", "Your order shipped", "On its way.", null, null, Transactional: true), Settings(), CancellationToken.None);
        Assert.Equal(DeliveryStatus.Sent, sent.Status);
        Assert.DoesNotContain("List-Unsubscribe", Assert.Single(Delivered()));

        var rejected = await channel.SendAsync(new OutboundMessage("x", "not an address", "s", "t", null, null, true), Settings(), CancellationToken.None);
        Assert.Equal(DeliveryStatus.Rejected, rejected.Status);
    }

    [Fact]
    public async Task An_unreachable_server_is_a_transient_failure()
    {
        var settings = Settings(port: TestHost.FreePort());
        var result = await Smtp().SendAsync(new OutboundMessage("y", "jane@example.com", "s", "t", null, null, true), settings, CancellationToken.None);
        Assert.Equal(DeliveryStatus.TransientFailure, result.Status);
    }

    private static Task<JsonElement> WaitForStatusAsync(HttpClient admin, string instance, string id, string status) =>
        Eventually.UntilAsync(
            () => admin.GetFromJsonAsync<JsonElement>($"/api/connector-instances/{instance}/messages/{id}"),
            message => message.GetProperty("status").GetString() == status,
            TimeSpan.FromSeconds(30),
            message => $"The email stayed {message.GetProperty("status").GetString()} instead of becoming {status} within 30 s.");

    private IChannelConnector Smtp() =>
        fixture.Host.Services.GetRequiredService<PluginCatalog>().Plugins.Single(p => p.Manifest?.Id == "smtp").Channel!;

    private ConnectorSettings Settings(int? port = null) => new("ci_smtp", "shop-a", new Dictionary<string, string>
    {
        ["host"] = "127.0.0.1",
        ["port"] = (port ?? _port).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["security"] = "none",
        ["from"] = "Shop <news@shop.example>",
        ["unsubscribeUrl"] = "https://shop.example/unsubscribe",
        ["unsubscribeMailto"] = "unsubscribe@shop.example",
    });

    private List<string> Delivered()
    {
        var folder = Path.Combine(_maildir, "new");
        // Long headers are folded (RFC 5322): unfold them before looking at them.
        return Directory.Exists(folder)
            ? Directory.GetFiles(folder).Select(f => File.ReadAllText(f).Replace("\r\n ", " ", StringComparison.Ordinal).Replace("\n ", " ", StringComparison.Ordinal)).ToList()
            : [];
    }
}
