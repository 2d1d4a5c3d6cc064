using System.Collections.Concurrent;
using System.Globalization;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MimeKit;
using Modulith.Connectors.Sdk;

namespace Modulith.Connectors.Smtp;

/// <summary>Registers the SMTP email channel.</summary>
public sealed class SmtpRegistrar : IConnectorRegistrar
{
    /// <inheritdoc />
    public void Register(IServiceCollection services) => services.AddSingleton<IChannelConnector, SmtpChannelConnector>();
}

/// <summary>
/// Sends email with MailKit: text and HTML alternatives; marketing mail carries List-Unsubscribe and the RFC 8058
/// one-click List-Unsubscribe-Post; the Message-ID is derived from the idempotency key, and a key already sent by this
/// process is not sent again. A permanent SMTP refusal (5xx, e.g. unknown mailbox) is a bounce: Rejected.
/// </summary>
internal sealed class SmtpChannelConnector(ILogger<SmtpChannelConnector> logger) : IChannelConnector
{
    private const int RememberedKeys = 100_000;
    private readonly ConcurrentDictionary<string, string> _sent = new(StringComparer.Ordinal);

    public ChannelCapabilities Capabilities { get; } = new("email", SupportsHtml: true, MaxMessagesPerSecond: 20);

    public async Task<DeliveryResult> SendAsync(OutboundMessage message, ConnectorSettings settings, CancellationToken cancellationToken)
    {
        if (_sent.TryGetValue(message.IdempotencyKey, out var alreadySent))
        {
            return new DeliveryResult(DeliveryStatus.Sent, alreadySent, "Already sent with this idempotency key.");
        }

        if (!MailboxAddress.TryParse(message.Recipient, out var recipient))
        {
            return new DeliveryResult(DeliveryStatus.Rejected, null, "The recipient is not a valid email address.");
        }

        var mime = Build(message, settings, recipient);
        try
        {
            using var client = new SmtpClient { Timeout = 15_000 };
            var security = settings.Values.GetValueOrDefault("security") switch
            {
                "none" => SecureSocketOptions.None,
                "tls" => SecureSocketOptions.SslOnConnect,
                "starttls" => SecureSocketOptions.StartTls,
                _ => SecureSocketOptions.StartTlsWhenAvailable,
            };
            await client.ConnectAsync(settings.Required("host"), int.Parse(settings.Required("port"), CultureInfo.InvariantCulture), security, cancellationToken);
            if (settings.Values.TryGetValue("username", out var user) && !string.IsNullOrEmpty(user))
            {
                await client.AuthenticateAsync(user, settings.Values.GetValueOrDefault("password") ?? string.Empty, cancellationToken);
            }

            await client.SendAsync(mime, cancellationToken);
            await client.DisconnectAsync(quit: true, cancellationToken);
        }
        catch (SmtpCommandException exception) when ((int)exception.StatusCode >= 500)
        {
            return new DeliveryResult(DeliveryStatus.Rejected, null, $"Bounced: {(int)exception.StatusCode} {exception.Message}");
        }
        catch (Exception exception) when (exception is SmtpCommandException or SmtpProtocolException or ServiceNotConnectedException or IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            logger.LogWarning("Email {MessageId} not sent: {Error}", message.IdempotencyKey, exception.Message);
            return new DeliveryResult(DeliveryStatus.TransientFailure, null, exception.Message);
        }

        if (_sent.Count > RememberedKeys)
        {
            _sent.Clear();
        }

        _sent[message.IdempotencyKey] = mime.MessageId ?? message.IdempotencyKey;
        return new DeliveryResult(DeliveryStatus.Sent, mime.MessageId, null);
    }

    public Task<HealthReport> CheckHealthAsync(ConnectorSettings settings, CancellationToken cancellationToken) =>
        Task.FromResult(MailboxAddress.TryParse(settings.Values.GetValueOrDefault("from"), out _) && settings.Values.ContainsKey("host")
            ? new HealthReport(true, $"Sending through {settings.Values["host"]}.")
            : new HealthReport(false, "host and a valid from address are required."));

    internal static MimeMessage Build(OutboundMessage message, ConnectorSettings settings, MailboxAddress recipient)
    {
        var from = MailboxAddress.Parse(settings.Required("from"));
        var mime = new MimeMessage();
        mime.From.Add(from);
        mime.To.Add(recipient);
        mime.Subject = message.Subject ?? string.Empty;
        // Deterministic: a retry of the same message has the same Message-ID, so receivers can tell it is one message.
        mime.MessageId = $"{Sanitize(message.IdempotencyKey)}@{from.Domain}";
        var body = new BodyBuilder { TextBody = message.TextBody, HtmlBody = message.HtmlBody };
        mime.Body = body.ToMessageBody();
        if (!message.Transactional)
        {
            var token = message.Headers?.GetValueOrDefault("unsubscribeToken") ?? message.IdempotencyKey;
            var targets = new List<string>();
            if (settings.Values.GetValueOrDefault("unsubscribeUrl") is { Length: > 0 } url)
            {
                targets.Add($"<{url}{(url.Contains('?', StringComparison.Ordinal) ? '&' : '?')}token={Uri.EscapeDataString(token)}>");
            }

            if (settings.Values.GetValueOrDefault("unsubscribeMailto") is { Length: > 0 } mailbox)
            {
                targets.Add($"<mailto:{mailbox}?subject=unsubscribe-{Uri.EscapeDataString(token)}>");
            }

            if (targets.Count > 0)
            {
                mime.Headers.Add("List-Unsubscribe", string.Join(", ", targets));
                if (targets[0].StartsWith("<http", StringComparison.Ordinal))
                {
                    mime.Headers.Add("List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
                }
            }
        }

        return mime;
    }

    private static string Sanitize(string key) => new(key.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '-').ToArray());
}
