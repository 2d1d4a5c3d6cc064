using System.Security.Claims;

namespace Modulith.SharedKernel.Security;

/// <summary>Claim types and authentication schemes shared by every module.</summary>
public static class ModulithClaims
{
    /// <summary>The workspace the caller's key belongs to.</summary>
    public const string Workspace = "modulith:workspace";

    /// <summary>The id of the key that authenticated the caller (never the key itself).</summary>
    public const string KeyId = "modulith:key";

    /// <summary>Set on the bootstrap administrator key, which may create workspaces.</summary>
    public const string PlatformAdmin = "modulith:platform-admin";

    /// <summary>Bearer API keys of the management API.</summary>
    public const string ApiKeyScheme = "ApiKey";

    /// <summary>The workspace of an authenticated principal.</summary>
    public static string WorkspaceId(this ClaimsPrincipal principal) =>
        principal.FindFirstValue(Workspace) ?? throw new InvalidOperationException("The caller has no workspace.");
}

/// <summary>Roles an API key can carry.</summary>
public static class Roles
{
    /// <summary>Everything in the workspace, including keys.</summary>
    public const string Admin = "admin";

    /// <summary>Marketing: segments, journeys, scoring, attribution.</summary>
    public const string Marketing = "marketing";

    /// <summary>Sales: leads and reps.</summary>
    public const string Sales = "sales";

    /// <summary>Customer service.</summary>
    public const string Service = "service";

    /// <summary>Read-only access.</summary>
    public const string Viewer = "viewer";

    /// <summary>Every known role.</summary>
    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal) { Admin, Marketing, Sales, Service, Viewer };
}

/// <summary>Named authorization policies.</summary>
public static class Policies
{
    /// <summary>Any valid API key of the workspace.</summary>
    public const string AnyRole = "modulith:any-role";

    /// <summary>Admin keys only.</summary>
    public const string Admin = "modulith:admin";

    /// <summary>Reading customer data: every role.</summary>
    public const string ReadCustomers = "modulith:read-customers";

    /// <summary>Changing customer data (e.g. unmerge): admin, marketing, sales, service.</summary>
    public const string WriteCustomers = "modulith:write-customers";

    /// <summary>Sales work on leads (contact, accept, reject, assign): admin and sales.</summary>
    public const string SalesActions = "modulith:sales-actions";

    /// <summary>The bootstrap administrator (creates workspaces).</summary>
    public const string PlatformAdmin = "modulith:platform-admin";
}
