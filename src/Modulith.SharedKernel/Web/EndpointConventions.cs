using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Modulith.SharedKernel.Web;

/// <summary>What every route behind an API key documents.</summary>
public static class EndpointConventions
{
    /// <summary>Documents the 401 (missing or wrong key) and 403 (role not allowed) problem answers.</summary>
    public static RouteHandlerBuilder ProducesAuthProblems(this RouteHandlerBuilder builder) =>
        builder.ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
}
