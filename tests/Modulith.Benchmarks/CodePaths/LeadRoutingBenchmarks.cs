using BenchmarkDotNet.Attributes;
using Modulith.Leads.Storage;
using Modulith.SharedKernel.Storage;

namespace Modulith.Benchmarks.CodePaths;

/// <summary>
/// What every assignment reads first: each rep's open leads (<c>LeadProjectionStore.OpenLeadsByRepAsync</c>), in an
/// embedded database holding <see cref="Leads"/> leads of one workspace, with the lead schema's first version only
/// (the baseline: the count finds the rep's rows through the owner index and reads each row's stage from the table)
/// against the schema as it is now.
/// </summary>
[MemoryDiagnoser]
public class LeadRoutingBenchmarks
{
    private const string Workspace = "bench";
    private static readonly string[] Stages = ["Lead", "Lead", "Lead", "Lead", "Lead", "Lead", "MQL", "MQL", "SQL", "Accepted", "Customer", "Rejected"];

    private readonly List<string> _directories = [];
    private Database? _firstVersion;
    private Database? _current;
    private LeadProjectionStore? _onFirstVersion;
    private LeadProjectionStore? _onCurrent;

    [Params(10_000, 100_000)]
    public int Leads { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var scripts = new LeadsSchema().Scripts.ToList();
        _firstVersion = await CreateAsync(scripts.Where(s => s.Version == 1));
        _current = await CreateAsync(scripts);
        _onFirstVersion = new LeadProjectionStore(_firstVersion);
        _onCurrent = new LeadProjectionStore(_current);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await (_firstVersion?.DisposeAsync() ?? ValueTask.CompletedTask);
        await (_current?.DisposeAsync() ?? ValueTask.CompletedTask);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var directory in _directories)
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Benchmark(Baseline = true)]
    public Task<Dictionary<string, int>> Lead_schema_version_1() => _onFirstVersion!.OpenLeadsByRepAsync(Workspace);

    [Benchmark]
    public Task<Dictionary<string, int>> Lead_schema_now() => _onCurrent!.OpenLeadsByRepAsync(Workspace);

    private async Task<Database> CreateAsync(IEnumerable<SchemaScript> scripts)
    {
        var directory = Path.Combine(Path.GetTempPath(), "modulith-bench-routing-" + Guid.NewGuid().ToString("N"));
        _directories.Add(directory);
        Directory.CreateDirectory(directory);
        var database = new Database(new StorageOptions { DataDirectory = directory });
        await using var connection = await database.OpenForWriteAsync();
        foreach (var script in scripts)
        {
            await using var create = connection.Command(script.Sqlite);
            await create.ExecuteNonQueryAsync();
        }

        // The same leads in both: a quarter of the unqualified ones and all the qualified ones have an owner, 20 reps.
        var random = new Random(7);
        await using var transaction = await connection.BeginTransactionAsync();
        await using var insert = connection.Command(
            "INSERT INTO leads (workspace_id, lead_id, stage, owner_id, score, model_version, source, created_at, updated_at) " +
            "VALUES (@ws, @id, @stage, @owner, 10, 1, 'google', 0, 0)", transaction)
            .With("ws", Workspace).With("id", null).With("stage", null).With("owner", null);
        for (var i = 0; i < Leads; i++)
        {
            var stage = Stages[random.Next(Stages.Length)];
            var owned = stage is not ("Lead" or "MQL") || random.Next(4) == 0;
            insert.Parameters[1].Value = "lead-" + i.ToString("D7", System.Globalization.CultureInfo.InvariantCulture);
            insert.Parameters[2].Value = stage;
            insert.Parameters[3].Value = owned ? "rep-" + random.Next(20).ToString(System.Globalization.CultureInfo.InvariantCulture) : DBNull.Value;
            await insert.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
        return database;
    }
}
