using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Modulith.SharedKernel.Messaging;
using Modulith.SharedKernel.Storage;

namespace Modulith.Host.Connectors.Messaging;

internal sealed class OutboxSchema : ISchemaContributor
{
    private const string Tables = """
        CREATE TABLE outbound_messages (
            id TEXT PRIMARY KEY,
            workspace_id TEXT NOT NULL,
            instance_id TEXT NOT NULL,
            idempotency_key TEXT NULL,
            recipient TEXT NOT NULL,
            subject TEXT NULL,
            text_body TEXT NULL,
            html_body TEXT NULL,
            headers TEXT NULL,
            transactional INTEGER NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at BIGINT NOT NULL,
            lease_until BIGINT NOT NULL,
            created_at BIGINT NOT NULL,
            sent_at BIGINT NULL,
            provider_message_id TEXT NULL,
            last_error TEXT NULL
        );
        CREATE UNIQUE INDEX ux_outbound_messages_key ON outbound_messages(workspace_id, instance_id, idempotency_key);
        CREATE INDEX ix_outbound_messages_due ON outbound_messages(next_attempt_at) WHERE status IN ('pending', 'sending');
        CREATE INDEX ix_outbound_messages_instance ON outbound_messages(instance_id, status, id);
        """;

    public IEnumerable<SchemaScript> Scripts { get; } =
    [
        new("outbox", 1, "the outbound message outbox with retries and the dead-letter list", Tables, Tables),
    ];
}

/// <summary>A rendered message as stored, ready for the connector.</summary>
internal sealed record StoredMessage(
    string Id,
    string WorkspaceId,
    string InstanceId,
    string? IdempotencyKey,
    string Recipient,
    string? Subject,
    string? TextBody,
    string? HtmlBody,
    IReadOnlyDictionary<string, string>? Headers,
    bool Transactional,
    int Attempts);

/// <summary>Message states as stored.</summary>
internal static class MessageStatus
{
    public const string Pending = "pending";
    public const string Sending = "sending";
    public const string Sent = "sent";
    public const string Rejected = "rejected";
    public const string Dead = "dead";

    public static readonly string[] All = [Pending, Sending, Sent, Rejected, Dead];
}

/// <summary>
/// The outbox table. Sending claims a row with a lease, so several silos can dispatch from one database without
/// sending a message twice at once; a silo that dies mid-send leaves a lease that expires and the row is claimed again
/// (the connector's idempotency key keeps that second attempt from reaching the recipient twice).
/// </summary>
internal sealed class OutboxStore(Database database, TimeProvider clock)
{
    private const string Columns = "id, instance_id, idempotency_key, recipient, subject, status, attempts, created_at, next_attempt_at, sent_at, provider_message_id, last_error";

    public static string NewId(DateTimeOffset now) =>
        "msg_" + now.ToUnixTimeMilliseconds().ToString("x12", CultureInfo.InvariantCulture) + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    public static bool IsValidId(string id) => id.Length == 4 + 12 + 12 && id.StartsWith("msg_", StringComparison.Ordinal) && id[4..].All(char.IsAsciiHexDigitLower);

    /// <summary>Stores the message unless the instance already has one with the same idempotency key; answers the stored one.</summary>
    public async Task<ChannelMessageView> AddAsync(StoredMessage message, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        await using (var insert = connection.Command("""
            INSERT INTO outbound_messages (id, workspace_id, instance_id, idempotency_key, recipient, subject, text_body, html_body, headers, transactional, status, attempts, next_attempt_at, lease_until, created_at)
            VALUES (@id, @ws, @instance, @key, @recipient, @subject, @text, @html, @headers, @transactional, 'pending', 0, @now, 0, @now)
            ON CONFLICT DO NOTHING
            """))
        {
            insert.With("id", message.Id).With("ws", message.WorkspaceId).With("instance", message.InstanceId).With("key", message.IdempotencyKey)
                .With("recipient", message.Recipient).With("subject", message.Subject).With("text", message.TextBody).With("html", message.HtmlBody)
                .With("headers", message.Headers is null ? null : JsonSerializer.Serialize(message.Headers))
                .With("transactional", message.Transactional ? 1 : 0).With("now", now);
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var select = message.IdempotencyKey is null
            ? connection.Command($"SELECT {Columns} FROM outbound_messages WHERE id = @id").With("id", message.Id)
            : connection.Command($"SELECT {Columns} FROM outbound_messages WHERE workspace_id = @ws AND instance_id = @instance AND idempotency_key = @key")
                .With("ws", message.WorkspaceId).With("instance", message.InstanceId).With("key", message.IdempotencyKey);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return ReadView(reader);
    }

    public async Task<ChannelMessageView?> GetAsync(string workspaceId, string instanceId, string id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command($"SELECT {Columns} FROM outbound_messages WHERE id = @id AND workspace_id = @ws AND instance_id = @instance")
            .With("id", id).With("ws", workspaceId).With("instance", instanceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadView(reader) : null;
    }

    /// <summary>The instance's messages, newest first, optionally of one status; <paramref name="before"/> is the paging cursor.</summary>
    public async Task<IReadOnlyList<ChannelMessageView>> ListAsync(string workspaceId, string instanceId, string? status, string? before, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command($"""
            SELECT {Columns} FROM outbound_messages
            WHERE workspace_id = @ws AND instance_id = @instance{(status is null ? string.Empty : " AND status = @status")}{(before is null ? string.Empty : " AND id < @before")}
            ORDER BY id DESC LIMIT @limit
            """).With("ws", workspaceId).With("instance", instanceId).With("limit", limit);
        if (status is not null)
        {
            command.With("status", status);
        }

        if (before is not null)
        {
            command.With("before", before);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var views = new List<ChannelMessageView>();
        while (await reader.ReadAsync(cancellationToken))
        {
            views.Add(ReadView(reader));
        }

        return views;
    }

    /// <summary>Puts a dead letter back in the queue with a fresh set of attempts; false when it is not a dead letter.</summary>
    public async Task<bool> RequeueDeadAsync(string workspaceId, string instanceId, string id, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        await using var command = connection.Command("""
            UPDATE outbound_messages SET status = 'pending', attempts = 0, next_attempt_at = @now, lease_until = 0
            WHERE id = @id AND workspace_id = @ws AND instance_id = @instance AND status = 'dead'
            """).With("now", clock.GetUtcNow().ToUnixTimeMilliseconds()).With("id", id).With("ws", workspaceId).With("instance", instanceId);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Claims up to <paramref name="limit"/> due messages for <paramref name="lease"/>.</summary>
    public async Task<IReadOnlyList<StoredMessage>> ClaimDueAsync(int limit, TimeSpan lease, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        var candidates = new List<string>();
        await using (var select = connection.Command("""
            SELECT id FROM outbound_messages
            WHERE status IN ('pending', 'sending') AND next_attempt_at <= @now AND lease_until < @now
            ORDER BY next_attempt_at LIMIT @limit
            """).With("now", now).With("limit", limit))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                candidates.Add(reader.GetString(0));
            }
        }

        var claimed = new List<StoredMessage>(candidates.Count);
        foreach (var id in candidates)
        {
            await using var claim = connection.Command("""
                UPDATE outbound_messages SET status = 'sending', lease_until = @lease
                WHERE id = @id AND status IN ('pending', 'sending') AND next_attempt_at <= @now AND lease_until < @now
                RETURNING id, workspace_id, instance_id, idempotency_key, recipient, subject, text_body, html_body, headers, transactional, attempts
                """).With("lease", now + (long)lease.TotalMilliseconds).With("id", id).With("now", now);
            await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                claimed.Add(new StoredMessage(
                    reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.NullableString(3), reader.GetString(4),
                    reader.NullableString(5), reader.NullableString(6), reader.NullableString(7),
                    reader.NullableString(8) is { } headers ? JsonSerializer.Deserialize<Dictionary<string, string>>(headers) : null,
                    Convert.ToInt64(reader.GetValue(9), CultureInfo.InvariantCulture) != 0,
                    Convert.ToInt32(reader.GetValue(10), CultureInfo.InvariantCulture)));
            }
        }

        return claimed;
    }

    public Task MarkSentAsync(string id, string? providerMessageId, CancellationToken cancellationToken) =>
        FinishAsync(id, "status = 'sent', attempts = attempts + 1, sent_at = @now, provider_message_id = @provider, last_error = NULL",
            command => command.With("provider", providerMessageId).With("now", clock.GetUtcNow().ToUnixTimeMilliseconds()), cancellationToken);

    public Task MarkRejectedAsync(string id, string? error, CancellationToken cancellationToken) =>
        FinishAsync(id, "status = 'rejected', attempts = attempts + 1, last_error = @error", command => command.With("error", error), cancellationToken);

    public Task MarkDeadAsync(string id, string? error, CancellationToken cancellationToken) =>
        FinishAsync(id, "status = 'dead', attempts = attempts + 1, last_error = @error", command => command.With("error", error), cancellationToken);

    public Task ScheduleRetryAsync(string id, DateTimeOffset due, string? error, bool countsAsAttempt, CancellationToken cancellationToken) =>
        FinishAsync(id, $"status = 'pending', next_attempt_at = @due, last_error = @error{(countsAsAttempt ? ", attempts = attempts + 1" : string.Empty)}",
            command => command.With("due", due.ToUnixTimeMilliseconds()).With("error", error), cancellationToken);

    /// <summary>Hands claimed messages that were not finished back to the queue, due at once.</summary>
    public async Task ReleaseAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return;
        }

        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        await using var command = connection.CommandWithList("UPDATE outbound_messages SET status = 'pending', lease_until = 0 WHERE status = 'sending' AND id IN (@list)", ids);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task FinishAsync(string id, string assignments, Action<DbCommand> bind, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        await using var command = connection.Command($"UPDATE outbound_messages SET {assignments}, lease_until = 0 WHERE id = @id AND status = 'sending'")
            .With("id", id);
        bind(command);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static ChannelMessageView ReadView(DbDataReader reader)
    {
        var status = reader.GetString(5);
        return new ChannelMessageView(
            reader.GetString(0), reader.GetString(1), reader.NullableString(2), reader.GetString(3), reader.NullableString(4), status,
            Convert.ToInt32(reader.GetValue(6), CultureInfo.InvariantCulture),
            FromMs(reader.GetValue(7))!.Value,
            status is MessageStatus.Pending or MessageStatus.Sending ? FromMs(reader.GetValue(8)) : null,
            FromMs(reader.GetValue(9)),
            reader.NullableString(10), reader.NullableString(11));
    }

    private static DateTimeOffset? FromMs(object value) =>
        value is DBNull ? null : DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(value, CultureInfo.InvariantCulture));
}
