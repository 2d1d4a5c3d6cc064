using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Modulith.SharedKernel.Security;
using Modulith.Workspaces.Contracts;

namespace Modulith.Workspaces.Auth;

/// <summary>Authenticates <c>Authorization: Bearer &lt;api key&gt;</c> against the workspace's hashed keys.</summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IWorkspaceDirectory directory) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers[HeaderNames.Authorization];
        if (string.IsNullOrEmpty(header) || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        var identity = await directory.AuthenticateApiKeyAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
        if (identity is null)
        {
            return AuthenticateResult.Fail("Unknown or revoked API key.");
        }

        var claims = new List<Claim>
        {
            new(ModulithClaims.Workspace, identity.WorkspaceId),
            new(ModulithClaims.KeyId, identity.KeyId),
        };
        claims.AddRange(identity.Roles.Select(role => new Claim(ClaimTypes.Role, role)));
        if (identity.IsPlatformAdmin)
        {
            claims.Add(new Claim(ModulithClaims.PlatformAdmin, "true"));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme.Name));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(401, "Authentication failed.", "Send a valid API key as 'Authorization: Bearer <key>'.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(403, "Forbidden.", "The API key's roles do not allow this operation.");

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        if (status == 401)
        {
            Response.Headers.WWWAuthenticate = "Bearer";
        }

        await Response.WriteAsJsonAsync(
            new { type = $"https://tools.ietf.org/html/rfc9110#section-15.5.{(status == 401 ? 2 : 4)}", title, status, detail },
            options: null,
            contentType: "application/problem+json");
    }
}
