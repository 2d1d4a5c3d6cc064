namespace Modulith.Benchmarks.Load;

/// <summary>
/// A fresh directory name under the temporary folder for one run's data, deleted with the folders named after it
/// (<c>{path}-batch</c>, <c>{path}-raw</c> ...) once the run is over: a run leaves gigabytes of databases behind.
/// </summary>
public sealed class ScratchDirectory(string prefix) : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        var parent = System.IO.Path.GetDirectoryName(Path)!;
        var name = System.IO.Path.GetFileName(Path);
        foreach (var directory in Directory.EnumerateDirectories(parent, name + "*"))
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"Could not delete {directory}: {e.Message}");
            }
        }
    }
}
