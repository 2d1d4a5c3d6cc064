using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Modulith.SharedKernel.Web;

/// <summary>RFC 9457 problem details with the platform's conventions.</summary>
public static class Problems
{
    /// <summary>400 with a clear message; <paramref name="extensions"/> add machine-readable detail.</summary>
    public static ProblemHttpResult BadRequest(string detail, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest, title: "The request is invalid.", extensions: extensions);

    /// <summary>404 for a resource that does not exist in the caller's workspace.</summary>
    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status404NotFound, title: "Not found.");

    /// <summary>409 for a request that conflicts with the current state.</summary>
    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict.");

    /// <summary>401 when credentials are missing or wrong.</summary>
    public static ProblemHttpResult Unauthorized(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status401Unauthorized, title: "Authentication failed.");

    /// <summary>503 with Retry-After is produced by the host; this is the 429 used by back-pressure.</summary>
    public static ProblemHttpResult TooManyRequests(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status429TooManyRequests, title: "Over capacity.");
}
