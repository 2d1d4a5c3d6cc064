namespace Modulith.Workspaces.Bootstrap;

/// <summary>The first workspace, created on a store that has none (<c>Modulith:Bootstrap</c>).</summary>
public sealed class BootstrapOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Modulith:Bootstrap";

    /// <summary>The workspace id (and name); <c>default</c> when absent.</summary>
    public string? Workspace { get; set; }

    /// <summary>The admin key, which is also the platform administrator's key; generated and printed once when absent.</summary>
    public string? AdminKey { get; set; }

    /// <summary>The write key; generated and printed once when absent.</summary>
    public string? WriteKey { get; set; }
}
