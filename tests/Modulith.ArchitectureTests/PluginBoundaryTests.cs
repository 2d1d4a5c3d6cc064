using System.Reflection;
using NetArchTest.Rules;

namespace Modulith.ArchitectureTests;

/// <summary>Plugins see only the SDK; the SDK carries no ASP.NET Core or Orleans type.</summary>
public sealed class PluginBoundaryTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    [Fact]
    public void The_sdk_depends_on_no_aspnetcore_orleans_or_module_type()
    {
        var result = Types.InAssembly(typeof(Modulith.Connectors.Sdk.IConnectorRegistrar).Assembly).ShouldNot()
            .HaveDependencyOnAny("Microsoft.AspNetCore", "Orleans", "Modulith.Host", "Modulith.SharedKernel", "Modulith.Workspaces", "Modulith.Ingestion", "Modulith.Customers")
            .GetResult();
        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Fact]
    public void The_sdk_assembly_version_is_pinned_for_its_major_line()
    {
        var version = typeof(Modulith.Connectors.Sdk.IConnectorRegistrar).Assembly.GetName().Version!;
        Assert.Equal(new Version(Modulith.Connectors.Sdk.SdkInfo.Major, 0, 0, 0), version);
    }

    [Fact]
    public void Plugins_reference_only_the_sdk_the_framework_and_microsoft_extensions()
    {
        var plugins = Directory.GetDirectories(PluginsFolder());
        Assert.NotEmpty(plugins);
        foreach (var folder in plugins)
        {
            Assert.False(File.Exists(Path.Combine(folder, "Modulith.Connectors.Sdk.dll")), $"{folder} carries its own copy of the SDK.");
            var main = Path.Combine(folder, Path.GetFileName(folder) + ".dll");
            var references = AssemblyName.GetAssemblyName(main) is { } _ ? ReferencedAssemblies(main) : [];
            var foreign = references.Where(r => r.StartsWith("Modulith.", StringComparison.Ordinal) && r != "Modulith.Connectors.Sdk"
                || r.StartsWith("Orleans", StringComparison.Ordinal) || r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)).ToList();
            Assert.True(foreign.Count == 0, $"{Path.GetFileName(folder)} references {string.Join(", ", foreign)}");
        }
    }

    private static IReadOnlyList<string> ReferencedAssemblies(string path)
    {
        using var stream = File.OpenRead(path);
        using var reader = new System.Reflection.PortableExecutable.PEReader(stream);
        var metadata = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(reader);
        return metadata.AssemblyReferences.Select(h => metadata.GetString(metadata.GetAssemblyReference(h).Name)).ToList();
    }

    private static string PluginsFolder()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Modulith.sln")))
        {
            directory = directory.Parent;
        }

        return Path.Combine(directory!.FullName, "src", "Modulith.Host", "bin", Configuration, "net10.0", "plugins");
    }
}
