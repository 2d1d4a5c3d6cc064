using System.Data.Common;
using System.Globalization;
using Modulith.Ingestion.Contracts;
using Modulith.Ingestion.Segment;
using Modulith.SharedKernel.Storage;
using Npgsql;
using NpgsqlTypes;

namespace Modulith.Ingestion.EventLog;

internal sealed record PendingAppend(string WorkspaceId, NormalizedEvent Event);

/// <summary>
/// The event log: append (deduplicated), pending reads for dispatch, the checkpoint, timelines. A row of <c>events</c> stays
/// as written (only an erasure changes it); the database queues each new row for dispatch by partition in
/// <c>pending_events</c> (a trigger), and <c>event_customers</c> says which customer it was applied to (ADR 0016).
/// </summary>
internal sealed class EventLogStore(Database database, TimeProvider clock) : IEventBacklog
{
    private const string Columns = "seq, workspace_id, message_id, type, name, user_id, anonymous_id, previous_id, ts, received, payload";
    private const string JoinedColumns = "e.seq, e.workspace_id, e.message_id, e.type, e.name, e.user_id, e.anonymous_id, e.previous_id, e.ts, e.received, e.payload";
    private const string InsertedColumns = PostgresCopyRows.Columns;

    // PostgreSQL appends run concurrently (committers of a silo, silos of a cluster) and share this advisory lock. Two of
    // them carrying the same message ids in different orders can wait on each other's unique-index entries: PostgreSQL
    // rolls one back as a deadlock, and that one retries holding the lock alone, so it cannot deadlock again.
    private const long AppendLock = 0x4D6F_6475_6C69_7468;
    private const int CopyChunkBytes = 64 * 1024;
    private const int DeadlockRetries = 3;

    // After an append met message ids that were there already, appends deduplicate row by row for a while: a client that
    // is resending would otherwise make every commit try twice.
    private static readonly TimeSpan DeduplicateAfterDuplicatesFor = TimeSpan.FromSeconds(10);
    private long _duplicatesSeen;

    /// <summary>True when appends may run in concurrent transactions (PostgreSQL); the embedded database has one writer.</summary>
    public bool SupportsConcurrentWriters => !database.IsSqlite;

    /// <summary>Appends in one transaction; a (workspace, messageId) seen before is skipped. Answers the partitions that got new rows.</summary>
    public async Task<IReadOnlySet<int>> AppendAsync(IReadOnlyList<PendingAppend> rows, CancellationToken cancellationToken)
    {
        if (database.IsSqlite)
        {
            await using var connection = await database.OpenForPriorityWriteAsync(cancellationToken);
            return await AppendSqliteAsync(connection, rows, cancellationToken);
        }

        var alone = false;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (!alone && !DuplicatesSeenLately())
                {
                    await using var copying = await database.OpenForPriorityWriteAsync(cancellationToken);
                    if (await TryCopyPostgresAsync((NpgsqlConnection)copying, rows, cancellationToken) is { } partitions)
                    {
                        return partitions;
                    }

                    Interlocked.Exchange(ref _duplicatesSeen, clock.GetTimestamp());
                }

                await using var connection = await database.OpenForPriorityWriteAsync(cancellationToken);
                return await InsertDeduplicatingPostgresAsync((NpgsqlConnection)connection, rows, alone, cancellationToken);
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < DeadlockRetries)
            {
                // A client resending requests still in flight. PostgreSQL rolled this append back whole.
                Interlocked.Exchange(ref _duplicatesSeen, clock.GetTimestamp());
                alone = true;
            }
        }
    }

    private static async Task<IReadOnlySet<int>> AppendSqliteAsync(DbConnection connection, IReadOnlyList<PendingAppend> rows, CancellationToken cancellationToken)
    {
        var touched = new HashSet<int>();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var insert = connection.Command(
            $"INSERT INTO events ({InsertedColumns}) " +
            "VALUES (@ws, @mid, @part, @type, @name, @uid, @aid, @pid, @ts, @rcv, @payload) ON CONFLICT (workspace_id, message_id) DO NOTHING",
            transaction);
        string[] names = ["ws", "mid", "part", "type", "name", "uid", "aid", "pid", "ts", "rcv", "payload"];
        foreach (var name in names)
        {
            insert.With(name, null);
        }

        await insert.PrepareAsync(cancellationToken);
        foreach (var (workspaceId, e) in rows)
        {
            var partition = e.Partition(workspaceId);
            var p = insert.Parameters;
            p[0].Value = workspaceId;
            p[1].Value = e.MessageId;
            p[2].Value = partition;
            p[3].Value = e.Type;
            p[4].Value = (object?)e.Name ?? DBNull.Value;
            p[5].Value = (object?)e.UserId ?? DBNull.Value;
            p[6].Value = (object?)e.AnonymousId ?? DBNull.Value;
            p[7].Value = (object?)e.PreviousId ?? DBNull.Value;
            p[8].Value = e.Timestamp.ToUnixTimeMilliseconds();
            p[9].Value = e.ReceivedAt.ToUnixTimeMilliseconds();
            p[10].Value = e.Payload;
            if (await insert.ExecuteNonQueryAsync(cancellationToken) > 0)
            {
                touched.Add(partition);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return touched;
    }

    private bool DuplicatesSeenLately()
    {
        var seen = Interlocked.Read(ref _duplicatesSeen);
        return seen != 0 && clock.GetElapsedTime(seen) < DeduplicateAfterDuplicatesFor;
    }

    /// <summary>
    /// The common case, where every message id is new: a binary COPY, which PostgreSQL writes with less work than an insert
    /// that checks each row for a conflict (docs/performance.md). The unique index still guards every row: if one was
    /// there already, or comes twice in the group, the whole COPY is rolled back and this answers null, for the caller to
    /// deduplicate instead.
    /// </summary>
    private static async Task<IReadOnlySet<int>?> TryCopyPostgresAsync(NpgsqlConnection connection, IReadOnlyList<PendingAppend> rows, CancellationToken cancellationToken)
    {
        var touched = new HashSet<int>();
        try
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await LockAppendsAsync(connection, transaction, shared: true, cancellationToken);
            using var encoded = new PostgresCopyRows();
            await using (var copy = await connection.BeginRawBinaryCopyAsync($"COPY events ({PostgresCopyRows.Columns}) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                foreach (var (workspaceId, e) in rows)
                {
                    var partition = e.Partition(workspaceId);
                    touched.Add(partition);
                    encoded.Append(workspaceId, e, partition);
                    if (encoded.Written.Length >= CopyChunkBytes)
                    {
                        await copy.WriteAsync(encoded.Written, cancellationToken);
                        encoded.Clear();
                    }
                }

                encoded.End();
                await copy.WriteAsync(encoded.Written, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return touched;
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return null;
        }
    }

    private static async Task LockAppendsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, bool shared, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(shared ? "SELECT pg_advisory_xact_lock_shared(@lock)" : "SELECT pg_advisory_xact_lock(@lock)", connection, transaction);
        command.Parameters.AddWithValue("lock", AppendLock);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<IReadOnlySet<int>> InsertDeduplicatingPostgresAsync(NpgsqlConnection connection, IReadOnlyList<PendingAppend> rows, bool alone, CancellationToken cancellationToken)
    {
        var count = rows.Count;
        var ws = new string[count];
        var mid = new string[count];
        var part = new int[count];
        var type = new string[count];
        var name = new string?[count];
        var uid = new string?[count];
        var aid = new string?[count];
        var pid = new string?[count];
        var ts = new long[count];
        var rcv = new long[count];
        var payload = new string[count];
        for (var i = 0; i < count; i++)
        {
            var (workspaceId, e) = rows[i];
            ws[i] = workspaceId;
            mid[i] = e.MessageId;
            part[i] = e.Partition(workspaceId);
            type[i] = e.Type;
            name[i] = e.Name;
            uid[i] = e.UserId;
            aid[i] = e.AnonymousId;
            pid[i] = e.PreviousId;
            ts[i] = e.Timestamp.ToUnixTimeMilliseconds();
            rcv[i] = e.ReceivedAt.ToUnixTimeMilliseconds();
            payload[i] = e.Payload;
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockAppendsAsync(connection, transaction, shared: !alone, cancellationToken);
        await using var command = new NpgsqlCommand(
            $"INSERT INTO events ({InsertedColumns}) " +
            "SELECT * FROM unnest(@ws, @mid, @part, @type, @name, @uid, @aid, @pid, @ts, @rcv, @payload) " +
            "ON CONFLICT (workspace_id, message_id) DO NOTHING RETURNING partition",
            connection,
            transaction);
        command.Parameters.Add(new NpgsqlParameter("ws", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = ws });
        command.Parameters.Add(new NpgsqlParameter("mid", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = mid });
        command.Parameters.Add(new NpgsqlParameter("part", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = part });
        command.Parameters.Add(new NpgsqlParameter("type", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = type });
        command.Parameters.Add(new NpgsqlParameter("name", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = name });
        command.Parameters.Add(new NpgsqlParameter("uid", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = uid });
        command.Parameters.Add(new NpgsqlParameter("aid", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = aid });
        command.Parameters.Add(new NpgsqlParameter("pid", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = pid });
        command.Parameters.Add(new NpgsqlParameter("ts", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = ts });
        command.Parameters.Add(new NpgsqlParameter("rcv", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = rcv });
        command.Parameters.Add(new NpgsqlParameter("payload", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = payload });
        var touched = new HashSet<int>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                touched.Add(reader.GetInt32(0));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return touched;
    }

    /// <summary>The oldest events of a partition not yet dispatched.</summary>
    public async Task<IReadOnlyList<IngestedEvent>> ReadPendingAsync(int partition, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            $"SELECT {JoinedColumns} FROM pending_events p JOIN events e ON e.seq = p.seq WHERE p.partition = @p ORDER BY p.seq LIMIT @n")
            .With("p", partition).With("n", limit);
        return await ReadEventsAsync(command, cancellationToken);
    }

    /// <summary>
    /// Moves the checkpoint: the partition's events leave the queue, and those applied to a customer are attributed to them
    /// for the timeline. The event rows themselves are not written.
    /// </summary>
    public async Task MarkDispatchedAsync(int partition, IReadOnlyList<(IngestedEvent Event, string? CustomerId)> done, CancellationToken cancellationToken)
    {
        if (done.Count == 0)
        {
            return;
        }

        var attributed = done.Where(d => d.CustomerId is not null).ToList();
        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        if (connection is NpgsqlConnection npgsql)
        {
            await using var command = new NpgsqlCommand(
                "WITH dequeued AS (DELETE FROM pending_events WHERE partition = @p AND seq = ANY(@done)) " +
                "INSERT INTO event_customers (seq, workspace_id, customer_id, ts) SELECT * FROM unnest(@s, @ws, @c, @ts) ON CONFLICT (seq) DO NOTHING", npgsql);
            command.Parameters.AddWithValue("p", partition);
            command.Parameters.Add(new NpgsqlParameter("done", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = done.Select(d => d.Event.Sequence).ToArray() });
            command.Parameters.Add(new NpgsqlParameter("s", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = attributed.Select(d => d.Event.Sequence).ToArray() });
            command.Parameters.Add(new NpgsqlParameter("ws", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = attributed.Select(d => d.Event.WorkspaceId).ToArray() });
            command.Parameters.Add(new NpgsqlParameter("c", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = attributed.Select(d => d.CustomerId!).ToArray() });
            command.Parameters.Add(new NpgsqlParameter("ts", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = attributed.Select(d => d.Event.Timestamp.ToUnixTimeMilliseconds()).ToArray() });
            await command.ExecuteNonQueryAsync(cancellationToken);
            return;
        }

        // Two statements for the whole drain (up to a thousand events), each given its rows as one JSON array: a statement per
        // event would hold the database's one writer, and so the appends, for thousands of round trips.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var dequeue = connection.Command(
            "DELETE FROM pending_events WHERE partition = @p AND seq IN (SELECT value FROM json_each(@done))", transaction)
            .With("p", partition).With("done", System.Text.Json.JsonSerializer.Serialize(done.Select(d => d.Event.Sequence).ToArray())))
        {
            await dequeue.ExecuteNonQueryAsync(cancellationToken);
        }

        if (attributed.Count > 0)
        {
            await using var attribute = connection.Command(
                "INSERT INTO event_customers (seq, workspace_id, customer_id, ts) " +
                "SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(@rows) WHERE true ON CONFLICT (seq) DO NOTHING", transaction)
                .With("rows", AttributionsJson(attributed));
            await attribute.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static string AttributionsJson(List<(IngestedEvent Event, string? CustomerId)> attributed)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(attributed.Count * 96);
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var (e, customerId) in attributed)
            {
                json.WriteStartArray();
                json.WriteNumberValue(e.Sequence);
                json.WriteStringValue(e.WorkspaceId);
                json.WriteStringValue(customerId);
                json.WriteNumberValue(e.Timestamp.ToUnixTimeMilliseconds());
                json.WriteEndArray();
            }

            json.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>How many events wait for dispatch (all partitions).</summary>
    public async Task<long> CountPendingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT COUNT(*) FROM pending_events");
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task<(IReadOnlyList<IngestedEvent> Events, string? NextCursor)> ReadTimelineAsync(
        string workspaceId, IReadOnlyCollection<string> customerIds, string? cursor, int limit, CancellationToken cancellationToken)
    {
        if (customerIds.Count == 0)
        {
            return ([], null);
        }

        var (beforeTs, beforeSeq) = ParseCursor(cursor);
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.CommandWithList(
            $"SELECT {JoinedColumns} FROM event_customers c JOIN events e ON e.seq = c.seq " +
            "WHERE c.workspace_id = @ws AND c.customer_id IN (@list) AND (c.ts < @bts OR (c.ts = @bts AND c.seq < @bseq)) " +
            "ORDER BY c.ts DESC, c.seq DESC LIMIT @n", customerIds.ToList());
        command.With("ws", workspaceId).With("bts", beforeTs).With("bseq", beforeSeq).With("n", limit + 1);

        var events = await ReadEventsAsync(command, cancellationToken);
        if (events.Count <= limit)
        {
            return (events, null);
        }

        var page = events.Take(limit).ToList();
        var last = page[^1];
        return (page, $"{last.Timestamp.ToUnixTimeMilliseconds()}.{last.Sequence}");
    }

    public async Task<IReadOnlyList<IngestedEvent>> ReadEventsAsync(string workspaceId, IReadOnlyCollection<long> sequences, CancellationToken cancellationToken)
    {
        if (sequences.Count == 0)
        {
            return [];
        }

        // Sequences are numbers: written into the statement, they need no parameters.
        var list = string.Join(", ", sequences.Select(s => s.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command($"SELECT {Columns} FROM events WHERE workspace_id = @ws AND seq IN ({list}) ORDER BY seq")
            .With("ws", workspaceId);
        return await ReadEventsAsync(command, cancellationToken);
    }

    public async Task<IReadOnlyList<IngestedEvent>> ReadCustomerEventsAsync(string workspaceId, string customerId, long afterSequence, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            $"SELECT {JoinedColumns} FROM event_customers c JOIN events e ON e.seq = c.seq " +
            "WHERE c.workspace_id = @ws AND c.customer_id = @c AND c.seq > @after ORDER BY c.seq")
            .With("ws", workspaceId).With("c", customerId).With("after", afterSequence);
        return await ReadEventsAsync(command, cancellationToken);
    }

    public async IAsyncEnumerable<(string CustomerId, string? Name, DateTimeOffset Timestamp, string Payload)> StreamByNameAsync(
        string workspaceId, string type, string? name, DateTimeOffset since, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT c.customer_id, e.name, e.ts, e.payload FROM events e JOIN event_customers c ON c.seq = e.seq " +
            "WHERE e.workspace_id = @ws AND e.type = @type AND " + (name is null ? string.Empty : "e.name = @name AND ") + "e.ts >= @since")
            .With("ws", workspaceId).With("type", type).With("since", since.ToUnixTimeMilliseconds());
        if (name is not null)
        {
            command.With("name", name);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return (reader.GetString(0), reader.NullableString(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), reader.GetString(3));
        }
    }

    public async Task<int> EraseCustomerEventsAsync(string workspaceId, IReadOnlyCollection<string> customerIds, CancellationToken cancellationToken)
    {
        if (customerIds.Count == 0)
        {
            return 0;
        }

        await using var connection = await database.OpenForWriteAsync(cancellationToken);
        await using var command = connection.CommandWithList(
            "UPDATE events SET payload = '{\"erased\":true}', user_id = NULL, anonymous_id = NULL, previous_id = NULL " +
            "WHERE workspace_id = @ws AND seq IN (SELECT seq FROM event_customers WHERE workspace_id = @ws AND customer_id IN (@list)) " +
            "AND payload <> '{\"erased\":true}'", customerIds.ToList()).With("ws", workspaceId);

        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Erases, in place, the events not attributed to a profile (parked, or still waiting for dispatch) that carry one
    /// of the ids, or one of the emails anywhere in the payload (as a JSON string, in any letter case), or that
    /// <paramref name="carriesTheirPhone"/> accepts among those whose payload mentions a phone. Answers how many, and the
    /// partitions where some were still waiting.
    /// </summary>
    public async Task<(int Erased, IReadOnlySet<int> PendingPartitions)> EraseUnattributedEventsAsync(
        string workspaceId, IReadOnlyCollection<string> userIds, IReadOnlyCollection<string> anonymousIds, IReadOnlyCollection<string> emails,
        Func<IngestedEvent, bool>? carriesTheirPhone, CancellationToken cancellationToken)
    {
        if (userIds.Count + anonymousIds.Count + emails.Count == 0 && carriesTheirPhone is null)
        {
            return (0, new HashSet<int>());
        }

        var erased = 0;
        var partitions = new HashSet<int>();
        var allIds = userIds.Concat(anonymousIds).Distinct(StringComparer.Ordinal).ToList();
        // Payloads stored by earlier versions have a plus sign or a letter outside ASCII as a \u escape; both forms are sought.
        var emailPatterns = emails.Select(email => email.ToLowerInvariant())
            .SelectMany(email => new[] { email, System.Text.Json.JsonEncodedText.Encode(email).ToString().ToLowerInvariant() })
            .Distinct(StringComparer.Ordinal)
            .Select(email => "%\"" + EscapeLike(email) + "\"%").ToList();

        // Both kinds are reached without reading the workspace's whole log: the ones still waiting through the queue of
        // pending rows (the workspace is compared as an expression so that the planner does not prefer the workspace's
        // indexes), the parked ones through parked_events.
        foreach (var (rows, pending) in new[]
                 {
                     ("seq IN (SELECT seq FROM pending_events) AND workspace_id || '' = @ws", true),
                     ("seq IN (SELECT seq FROM parked_events WHERE workspace_id = @ws)", false),
                 })
        {
            // Phone numbers are written in too many ways for SQL to compare; the caller's own rules read the candidates.
            // One that a drain applies meanwhile is no longer unattributed, and the profile's erasure reaches it.
            var withTheirPhone = carriesTheirPhone is null ? [] : await FindUnattributedAsync(workspaceId, rows, carriesTheirPhone, cancellationToken);
            await using var connection = await database.OpenForWriteAsync(cancellationToken);
            await using var command = connection.Command(string.Empty).With("ws", workspaceId);
            var matches = string.Join(" OR ",
                withTheirPhone.Count == 0 ? "1 = 0" : $"seq IN ({string.Join(", ", withTheirPhone.Select(seq => seq.ToString(CultureInfo.InvariantCulture)))})",
                $"user_id IN ({command.WithList("u", userIds)})",
                $"anonymous_id IN ({command.WithList("a", anonymousIds)})",
                $"previous_id IN ({command.WithList("p", allIds)})",
                string.Join(" OR ", emailPatterns.Select((pattern, i) =>
                {
                    var name = "e" + i.ToString(CultureInfo.InvariantCulture);
                    command.With(name, pattern);
                    return $"LOWER(payload) LIKE @{name} ESCAPE '\\'";
                }).DefaultIfEmpty("1 = 0")));
            command.CommandText = "UPDATE events SET payload = '{\"erased\":true}', user_id = NULL, anonymous_id = NULL, previous_id = NULL " +
                $"WHERE {rows} AND ({matches}) RETURNING partition";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                erased++;
                if (pending)
                {
                    partitions.Add(Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture));
                }
            }
        }

        return (erased, partitions);

        static string EscapeLike(string value) =>
            value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
    }

    private async Task<List<long>> FindUnattributedAsync(string workspaceId, string rows, Func<IngestedEvent, bool> matches, CancellationToken cancellationToken)
    {
        var found = new List<long>();
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command($"SELECT {Columns} FROM events WHERE {rows} AND payload LIKE '%\"phone\"%'").With("ws", workspaceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var e = ReadEvent(reader);
            if (matches(e))
            {
                found.Add(e.Sequence);
            }
        }

        return found;
    }

    internal static (long Ts, long Seq) ParseCursor(string? cursor)
    {
        if (cursor is not null)
        {
            var parts = cursor.Split('.');
            if (parts.Length == 2 &&
                long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ts) &&
                long.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var seq))
            {
                return (ts, seq);
            }

            throw new FormatException("The cursor is not valid.");
        }

        return (long.MaxValue, long.MaxValue);
    }

    private static async Task<IReadOnlyList<IngestedEvent>> ReadEventsAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var events = new List<IngestedEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(ReadEvent(reader));
        }

        return events;
    }

    private static IngestedEvent ReadEvent(DbDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetString(1),
        reader.GetString(2),
        reader.GetString(3),
        reader.NullableString(4),
        reader.NullableString(5),
        reader.NullableString(6),
        reader.NullableString(7),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
        reader.GetString(10));
}
