using System.Reflection;
using NetArchTest.Rules;

namespace Modulith.ArchitectureTests;

/// <summary>Modules see each other only through their contracts; everything else stays internal.</summary>
public sealed class ModuleBoundaryTests
{
    private static readonly Assembly Workspaces = typeof(Modulith.Workspaces.WorkspacesModule).Assembly;
    private static readonly Assembly Ingestion = typeof(Modulith.Ingestion.IngestionModule).Assembly;
    private static readonly Assembly Customers = typeof(Modulith.Customers.CustomersModule).Assembly;
    private static readonly Assembly Leads = typeof(Modulith.Leads.LeadsModule).Assembly;
    private static readonly Assembly Segmentation = typeof(Modulith.Segmentation.SegmentationModule).Assembly;
    private static readonly Assembly Attribution = typeof(Modulith.Attribution.AttributionModule).Assembly;
    private static readonly Assembly SharedKernel = typeof(Modulith.SharedKernel.Storage.Database).Assembly;

    public static TheoryData<string, string, string[]> ModulePairs => new()
    {
        // module, other module, the other module's namespaces it may use
        { "Modulith.Ingestion", "Modulith.Workspaces", ["Modulith.Workspaces.Contracts"] },
        { "Modulith.Customers", "Modulith.Workspaces", ["Modulith.Workspaces.Contracts"] },
        { "Modulith.Customers", "Modulith.Ingestion", ["Modulith.Ingestion.Contracts"] },
        { "Modulith.Ingestion", "Modulith.Customers", [] },
        { "Modulith.Workspaces", "Modulith.Ingestion", [] },
        { "Modulith.Workspaces", "Modulith.Customers", [] },
        { "Modulith.Leads", "Modulith.Customers", ["Modulith.Customers.Contracts"] },
        { "Modulith.Leads", "Modulith.Workspaces", ["Modulith.Workspaces.Contracts"] },
        { "Modulith.Leads", "Modulith.Ingestion", ["Modulith.Ingestion.Contracts"] },
        { "Modulith.Customers", "Modulith.Leads", [] },
        { "Modulith.Ingestion", "Modulith.Leads", [] },
        { "Modulith.Workspaces", "Modulith.Leads", [] },
        { "Modulith.Segmentation", "Modulith.Customers", ["Modulith.Customers.Contracts"] },
        { "Modulith.Segmentation", "Modulith.Workspaces", ["Modulith.Workspaces.Contracts"] },
        { "Modulith.Segmentation", "Modulith.Ingestion", ["Modulith.Ingestion.Contracts"] },
        { "Modulith.Segmentation", "Modulith.Leads", ["Modulith.Leads.Contracts"] },
        { "Modulith.Customers", "Modulith.Segmentation", [] },
        { "Modulith.Ingestion", "Modulith.Segmentation", [] },
        { "Modulith.Workspaces", "Modulith.Segmentation", [] },
        { "Modulith.Leads", "Modulith.Segmentation", [] },
        { "Modulith.Attribution", "Modulith.Customers", ["Modulith.Customers.Contracts"] },
        { "Modulith.Attribution", "Modulith.Workspaces", ["Modulith.Workspaces.Contracts"] },
        { "Modulith.Attribution", "Modulith.Ingestion", ["Modulith.Ingestion.Contracts"] },
        { "Modulith.Attribution", "Modulith.Leads", ["Modulith.Leads.Contracts"] },
        { "Modulith.Attribution", "Modulith.Segmentation", ["Modulith.Segmentation.Contracts"] },
        { "Modulith.Customers", "Modulith.Attribution", [] },
        { "Modulith.Ingestion", "Modulith.Attribution", [] },
        { "Modulith.Workspaces", "Modulith.Attribution", [] },
        { "Modulith.Leads", "Modulith.Attribution", [] },
        { "Modulith.Segmentation", "Modulith.Attribution", [] },
    };

    [Theory]
    [MemberData(nameof(ModulePairs))]
    public void A_module_uses_another_module_only_through_its_contracts(string module, string other, string[] allowed)
    {
        var assembly = AssemblyOf(module);
        var forbidden = AssemblyOf(other).GetTypes()
            .Where(t => t.Namespace is not null && t.Namespace.StartsWith("Modulith", StringComparison.Ordinal) && !allowed.Contains(t.Namespace) && !t.Name.EndsWith("Module", StringComparison.Ordinal))
            .Select(t => t.FullName!.Split('`')[0])
            .Distinct()
            .ToArray();
        var result = Types.InAssembly(assembly).ShouldNot().HaveDependencyOnAny(forbidden).GetResult();
        Assert.True(result.IsSuccessful, $"{module} uses non-contract types of {other}: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }

    [Fact]
    public void The_shared_kernel_depends_on_no_module()
    {
        var result = Types.InAssembly(SharedKernel).ShouldNot()
            .HaveDependencyOnAny("Modulith.Workspaces", "Modulith.Ingestion", "Modulith.Customers", "Modulith.Leads", "Modulith.Segmentation", "Modulith.Attribution", "Modulith.Host").GetResult();
        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Theory]
    [InlineData("Modulith.Workspaces")]
    [InlineData("Modulith.Ingestion")]
    [InlineData("Modulith.Customers")]
    [InlineData("Modulith.Leads")]
    [InlineData("Modulith.Segmentation")]
    [InlineData("Modulith.Attribution")]
    public void Only_contracts_and_the_module_entry_point_are_public(string module)
    {
        var assembly = AssemblyOf(module);
        var leaked = assembly.GetTypes()
            .Where(t => t.IsPublic || t.IsNestedPublic)
            .Where(t => t.Namespace is not null && !t.Namespace.EndsWith(".Contracts", StringComparison.Ordinal))
            .Where(t => !t.Name.EndsWith("Module", StringComparison.Ordinal) && !t.Name.EndsWith("Options", StringComparison.Ordinal))
            .Where(t => !IsGeneratedOrEndpointDto(t))
            .Select(t => t.FullName)
            .ToList();
        Assert.True(leaked.Count == 0, $"{module} exposes non-contract types: {string.Join(", ", leaked)}");
    }

    [Theory]
    [InlineData("Modulith.Workspaces")]
    [InlineData("Modulith.Ingestion")]
    [InlineData("Modulith.Customers")]
    [InlineData("Modulith.Leads")]
    [InlineData("Modulith.Segmentation")]
    [InlineData("Modulith.Attribution")]
    public void Module_classes_that_are_not_contracts_are_sealed(string module)
    {
        var open = AssemblyOf(module).GetTypes()
            .Where(t => t.IsClass && !t.IsAbstract && !t.IsSealed && !t.IsNested && t.Namespace?.StartsWith("Modulith", StringComparison.Ordinal) == true)
            .Where(t => !t.IsDefined(typeof(System.Runtime.CompilerServices.CompilerGeneratedAttribute), false))
            .Where(t => !t.Namespace!.StartsWith("OrleansCodeGen", StringComparison.Ordinal))
            .Select(t => t.FullName)
            .ToList();
        Assert.True(open.Count == 0, $"Unsealed classes: {string.Join(", ", open)}");
    }

    private static bool IsGeneratedOrEndpointDto(Type type) =>
        type.Namespace!.StartsWith("OrleansCodeGen", StringComparison.Ordinal) ||
        // Grain interfaces must be public for Orleans' generated proxies when they are called across modules;
        // request/response records of a module's own endpoints are documented by Swagger.
        (type.Namespace.EndsWith(".Endpoints", StringComparison.Ordinal) && (type.Name.EndsWith("Request", StringComparison.Ordinal) || type.Name.EndsWith("Result", StringComparison.Ordinal))) ||
        (type.IsInterface && type.Name.EndsWith("Grain", StringComparison.Ordinal)) ||
        type.Name == "EventDispatch";

    private static Assembly AssemblyOf(string module) => module switch
    {
        "Modulith.Workspaces" => Workspaces,
        "Modulith.Ingestion" => Ingestion,
        "Modulith.Customers" => Customers,
        "Modulith.Leads" => Leads,
        "Modulith.Segmentation" => Segmentation,
        "Modulith.Attribution" => Attribution,
        _ => throw new ArgumentOutOfRangeException(nameof(module)),
    };
}
