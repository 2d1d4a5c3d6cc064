namespace Modulith.IntegrationTests.Infrastructure;

/// <summary>One embedded-mode host shared by a test class; tests use their own ids so they do not interfere.</summary>
public sealed class SqliteHostFixture : IAsyncLifetime
{
    public TestHost Host { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Host = TestHost.StartSqlite();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
