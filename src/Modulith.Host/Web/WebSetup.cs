using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.OpenApi;
using Modulith.Host.Storage;
using Modulith.Ingestion;
using Modulith.SharedKernel.Security;
using Modulith.SharedKernel.Web;
using Serilog.Context;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Modulith.Host.Web;

/// <summary>Request limits (<c>Modulith:RateLimits</c>).</summary>
public sealed class RateLimitOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Modulith:RateLimits";

    /// <summary>Ingestion requests per second per write key (token bucket refill).</summary>
    public int IngestionPerSecond { get; set; } = 20_000;

    /// <summary>Management API requests per second per API key.</summary>
    public int ApiPerSecond { get; set; } = 200;
}

internal static class WebSetup
{
    public const long MaxRequestBodyBytes = 1024 * 1024;

    public static WebApplicationBuilder AddModulithWeb(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = MaxRequestBodyBytes);
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Extensions["traceId"] = c.HttpContext.TraceIdentifier;
        });
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        // A body or parameter that cannot be bound throws, so the problem handler can say what was wrong (not a bare 400).
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new StorableTextConverter()));
        builder.Services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("storage", tags: ["ready"]);
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Modulith API",
                Version = "v1",
                Description = "Revenue engine for online shops: Segment-compatible ingestion (/v1, HTTP Basic with the write key) and the management API (/api, Bearer API key).",
            });
            o.AddSecurityDefinition("ApiKey", new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "A workspace API key: 'Authorization: Bearer <key>'. Keys carry roles (admin, marketing, sales, service, viewer).",
            });
            o.AddSecurityDefinition("WriteKey", new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "basic",
                Description = "The workspace write key as the user name, empty password (or 'writeKey' in the body).",
            });
            o.OperationFilter<SecurityRequirementFilter>();
            o.OperationFilter<DocumentedBodyFilter>();
            foreach (var xml in Directory.GetFiles(AppContext.BaseDirectory, "Modulith.*.xml"))
            {
                o.IncludeXmlComments(xml);
            }
        });

        var limits = builder.Configuration.GetSection(RateLimitOptions.Section).Get<RateLimitOptions>() ?? new RateLimitOptions();
        builder.Services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (context, cancellationToken) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 1;
                context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await context.HttpContext.Response.WriteAsJsonAsync(
                    new { type = "https://tools.ietf.org/html/rfc6585#section-4", title = "Too many requests.", status = 429, detail = $"The rate limit was exceeded; retry after {retryAfter} s." },
                    options: null, contentType: "application/problem+json", cancellationToken);
            };
            o.AddPolicy(IngestionModule.RateLimitPolicy, context => RateLimitPartition.GetTokenBucketLimiter(
                "ingest:" + (context.Request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : context.Connection.RemoteIpAddress?.ToString() ?? "unknown"),
                _ => Bucket(limits.IngestionPerSecond)));
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                context.Request.Path.StartsWithSegments("/api")
                    ? RateLimitPartition.GetTokenBucketLimiter("api:" + context.Request.Headers.Authorization, _ => Bucket(limits.ApiPerSecond))
                    : RateLimitPartition.GetNoLimiter("other"));
        });
        return builder;
    }

    public static WebApplication UseModulithWeb(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(async (context, next) =>
        {
            var correlationId = context.Request.Headers["X-Correlation-Id"].FirstOrDefault() is { Length: > 0 and <= 100 } given ? given : context.TraceIdentifier;
            context.Response.Headers["X-Correlation-Id"] = correlationId;
            using (LogContext.PushProperty("CorrelationId", correlationId))
            {
                await next(context);
            }
        });
        app.UseAuthentication();
        app.Use(async (context, next) =>
        {
            using (LogContext.PushProperty("WorkspaceId", context.User.FindFirstValue(ModulithClaims.Workspace)))
            {
                await next(context);
            }
        });
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseSwagger();
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/swagger/v1/swagger.json", "Modulith API v1");
            o.DocumentTitle = "Modulith API";
        });
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).WithTags("Operations");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") }).WithTags("Operations");
        return app;
    }

    private static TokenBucketRateLimiterOptions Bucket(int perSecond) => new()
    {
        TokenLimit = perSecond * 2,
        TokensPerPeriod = perSecond,
        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
        QueueLimit = 0,
        AutoReplenishment = true,
    };
}

/// <summary>Every unhandled error becomes a 500 problem, and a malformed body a 400 problem.</summary>
internal sealed class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, "The request is invalid.",
                bad.InnerException is System.Text.Json.JsonException json ? $"{bad.Message} {json.Message}{Where(json)}" : bad.Message),
            System.Text.Json.JsonException json => (400, "The request is invalid.", "The body is not valid JSON: " + json.Message),
            // A silo left the cluster and its grains are being activated elsewhere: transient, the client retries.
            global::Orleans.Runtime.SiloUnavailableException or global::Orleans.Runtime.OrleansMessageRejectionException or TimeoutException =>
                (503, "Temporarily unavailable.", "The cluster is recovering from a silo failure; retry after the seconds in Retry-After."),
            _ => (500, "An unexpected error occurred.", "The error was logged with the trace id of this response."),
        };
        if (status == 503)
        {
            httpContext.Response.Headers.RetryAfter = "5";
            logger.LogWarning(exception, "Cluster unavailable on {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
        }
        else if (status >= 500)
        {
            logger.LogError(exception, "Unhandled error on {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
        }

        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
            Exception = exception,
        });
    }

    // The serializer's own messages name the path; a converter's refusal (StorableTextConverter) does not.
    private static string Where(System.Text.Json.JsonException json) =>
        json.Path is { Length: > 0 } path && !json.Message.Contains(path, StringComparison.Ordinal) ? $" (at {path})" : string.Empty;
}

/// <summary>Adds the request body of endpoints that read their body themselves (see <see cref="DocumentedBody"/>).</summary>
internal sealed class DocumentedBodyFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var body = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<DocumentedBody>().FirstOrDefault();
        if (body is null)
        {
            return;
        }

        var schema = context.SchemaGenerator.GenerateSchema(body.BodyType, context.SchemaRepository);
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = "JSON; browser clients send it as text/plain.",
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/json"] = new() { Schema = schema },
                ["text/plain"] = new() { Schema = schema },
            },
        };
    }
}

/// <summary>Documents which key each route needs.</summary>
internal sealed class SecurityRequirementFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var path = "/" + (context.ApiDescription.RelativePath ?? string.Empty);
        var scheme = path.StartsWith("/v1/", StringComparison.Ordinal) ? "WriteKey" : path.StartsWith("/api/", StringComparison.Ordinal) ? "ApiKey" : null;
        if (scheme is null)
        {
            return;
        }

        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [] });
    }
}
