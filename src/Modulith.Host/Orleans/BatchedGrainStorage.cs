using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Modulith.SharedKernel.Storage;
using Orleans.Storage;

namespace Modulith.Host.Orleans;

/// <summary>
/// Orleans' ADO.NET grain storage with group commit for writes: the states written concurrently by many grains are
/// stored in one transaction through the same <c>WriteToStorageKey</c> query of the <c>OrleansQuery</c> table, into the
/// same <c>OrleansStorage</c> rows, with the same version (ETag) check per grain. Each grain's write still completes only
/// after its transaction committed. Reads and clears go to the ADO.NET provider unchanged (docs/adr/0007).
/// </summary>
internal sealed class BatchedGrainStorage(IGrainStorage adoNet, GrainStateWriter writer, IGrainStorageSerializer serializer) : IGrainStorage
{
    public Task ReadStateAsync<T>(string grainType, GrainId grainId, IGrainState<T> grainState) =>
        adoNet.ReadStateAsync(grainType, grainId, grainState);

    public Task ClearStateAsync<T>(string grainType, GrainId grainId, IGrainState<T> grainState) =>
        adoNet.ClearStateAsync(grainType, grainId, grainState);

    public async Task WriteStateAsync<T>(string grainType, GrainId grainId, IGrainState<T> grainState)
    {
        // Only plain types with string keys, the only kind this product stores; anything else keeps the provider's own path.
        if (grainType.Contains('`', StringComparison.Ordinal) || grainId.TryGetGuidKey(out _, out _) || grainId.TryGetIntegerKey(out _, out _))
        {
            await adoNet.WriteStateAsync(grainType, grainId, grainState);
            return;
        }

        int? expected = string.IsNullOrWhiteSpace(grainState.ETag) ? null : int.Parse(grainState.ETag, CultureInfo.InvariantCulture);
        var write = new GrainStateWrite(grainType, grainId.Key.ToString()!, expected, ArrayOf(serializer.Serialize(grainState.State)));
        var stored = await writer.WriteAsync(write);
        if (stored is null || stored == expected)
        {
            throw new InconsistentStateException(
                $"Version conflict (WriteState): GrainType={grainType} GrainId={write.Key} ETag={grainState.ETag}.", stored?.ToString(CultureInfo.InvariantCulture), grainState.ETag);
        }

        grainState.ETag = stored.Value.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    // The serializer hands over a whole array; BinaryData.ToArray would copy every state once more.
    private static byte[] ArrayOf(BinaryData data) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data.ToMemory(), out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : data.ToArray();
}

internal sealed record GrainStateWrite(string GrainType, string Key, int? ExpectedVersion, byte[] Payload);

/// <summary>
/// The single writer behind every <see cref="BatchedGrainStorage"/> of the silo: takes what is queued, writes it in one
/// transaction, answers each grain its new version (or null when its version check failed, which fails only that grain).
/// </summary>
internal sealed class GrainStateWriter : IAsyncDisposable
{
    private const int MaxPerTransaction = 64;
    private readonly Database _database;
    private readonly string _serviceId;
    private readonly IHasher _hasher = new OrleansDefaultHasher();

    // Only the single writer loop touches it; a silo stores a handful of grain types.
    private readonly Dictionary<string, int> _typeHashes = new(StringComparer.Ordinal);
    private readonly Channel<(GrainStateWrite Write, TaskCompletionSource<int?> Done)> _queue =
        Channel.CreateUnbounded<(GrainStateWrite, TaskCompletionSource<int?>)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;
    private string? _query;

    public GrainStateWriter(Database database, IOptions<global::Orleans.Configuration.ClusterOptions> cluster)
    {
        _database = database;
        _serviceId = cluster.Value.ServiceId;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Queues one grain's state; answers the stored version once committed, or null on a version conflict.</summary>
    public Task<int?> WriteAsync(GrainStateWrite write)
    {
        var done = new TaskCompletionSource<int?>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((write, done)))
        {
            done.SetException(new InvalidOperationException("The grain state writer has stopped."));
        }

        return done.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }

    private async Task LoopAsync()
    {
        var batch = new List<(GrainStateWrite Write, TaskCompletionSource<int?> Done)>();
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxPerTransaction && _queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            try
            {
                var versions = await CommitAsync(batch);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Done.SetResult(versions[i]);
                }
            }
            catch (Exception exception)
            {
                foreach (var (_, done) in batch)
                {
                    done.SetException(exception);
                }
            }

            batch.Clear();
        }
    }

    private async Task<int?[]> CommitAsync(List<(GrainStateWrite Write, TaskCompletionSource<int?> Done)> batch)
    {
        await using var connection = await _database.OpenForWriteAsync();
        _query ??= await ReadWriteQueryAsync(connection);
        await using var transaction = await connection.BeginTransactionAsync();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = _query;
        var grainIdHash = Parameter(command, "GrainIdHash");
        var n0 = Parameter(command, "GrainIdN0");
        var n1 = Parameter(command, "GrainIdN1");
        var grainTypeHash = Parameter(command, "GrainTypeHash");
        var grainType = Parameter(command, "GrainTypeString");
        var key = Parameter(command, "GrainIdExtensionString");
        var serviceId = Parameter(command, "ServiceId");
        var version = Parameter(command, "GrainStateVersion");
        var payload = Parameter(command, "PayloadBinary");
        n0.Value = 0L;
        n1.Value = 0L;
        serviceId.Value = _serviceId;
        var versions = new int?[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var write = batch[i].Write;
            grainIdHash.Value = HashOf(write.Key);
            if (!_typeHashes.TryGetValue(write.GrainType, out var typeHash))
            {
                _typeHashes[write.GrainType] = typeHash = _hasher.Hash(Encoding.UTF8.GetBytes(write.GrainType));
            }

            grainTypeHash.Value = typeHash;
            grainType.Value = write.GrainType;
            key.Value = write.Key;
            version.Value = write.ExpectedVersion is { } expected ? expected : DBNull.Value;
            payload.Value = write.Payload;
            versions[i] = await ReadNewVersionAsync(command);
        }

        await transaction.CommitAsync();
        return versions;
    }

    // The hash Orleans' ADO.NET provider stores for a string key: the key's UTF-8 bytes, reversed on little-endian machines.
    private int HashOf(string key)
    {
        var bytes = Encoding.UTF8.GetBytes(key);
        if (BitConverter.IsLittleEndian)
        {
            Array.Reverse(bytes);
        }

        return _hasher.Hash(bytes);
    }

    private static async Task<int?> ReadNewVersionAsync(DbCommand command)
    {
        await using var reader = await command.ExecuteReaderAsync();
        do
        {
            if (reader.FieldCount > 0 && await reader.ReadAsync())
            {
                return await reader.IsDBNullAsync(0) ? null : Convert.ToInt32(reader.GetValue(0), CultureInfo.InvariantCulture);
            }
        }
        while (await reader.NextResultAsync());

        return null;
    }

    private static DbParameter Parameter(DbCommand command, string name)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = DbCommandExtensions.Prefixed(name);
        command.Parameters.Add(parameter);
        return parameter;
    }

    private static async Task<string> ReadWriteQueryAsync(DbConnection connection)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'WriteToStorageKey'";
        var query = (string?)await command.ExecuteScalarAsync() ?? throw new InvalidOperationException("OrleansQuery has no WriteToStorageKey row.");
        // SQLite refuses PRAGMA synchronous inside a transaction; the connections of Database already run with the same setting.
        return string.Join('\n', query.Split('\n').Where(line => !line.TrimStart().StartsWith("PRAGMA ", StringComparison.OrdinalIgnoreCase)));
    }
}
