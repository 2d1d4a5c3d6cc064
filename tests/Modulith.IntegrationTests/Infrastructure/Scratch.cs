using System.Diagnostics;

namespace Modulith.IntegrationTests.Infrastructure;

/// <summary>
/// Directories the tests write to (data directories, plugin folders, maildirs), all under one folder per test process
/// that is removed when the process exits. Folders left by a test process that did not exit normally are removed by the
/// next run, so repeated runs do not fill the temporary directory. (The test platform may end a long run's process
/// before its exit handlers ran; the next run's sweep covers that.)
/// </summary>
public static class Scratch
{
    private static readonly string Parent = Path.Combine(Path.GetTempPath(), "modulith-test-runs");
    private static readonly Lazy<string> Root = new(CreateRoot);

    /// <summary>A new directory's path (not created) under this process's folder, named after what it holds.</summary>
    public static string NewDirectory(string name) => Path.Combine(Root.Value, name + "-" + Guid.NewGuid().ToString("N"));

    /// <summary>Removes a directory a test no longer needs, as far as it can; what is left goes with the run's folder.</summary>
    public static void Delete(string directory) => TryDelete(directory);

    private static string CreateRoot()
    {
        RemoveFoldersOfEndedRuns();
        var root = Path.Combine(Parent, $"{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(root);
        return root;
    }

    private static void RemoveFoldersOfEndedRuns()
    {
        if (!Directory.Exists(Parent))
        {
            return;
        }

        foreach (var folder in Directory.EnumerateDirectories(Parent))
        {
            var name = Path.GetFileName(folder);
            var dash = name.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && int.TryParse(name[..dash], out var processId) && !IsRunning(processId))
            {
                TryDelete(folder);
            }
        }
    }

    private static bool IsRunning(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            // Best effort: a file still held open stays until the next run removes the folder.
        }
    }
}
