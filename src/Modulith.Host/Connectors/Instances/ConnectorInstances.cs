using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using Modulith.Connectors.Sdk;
using Modulith.SharedKernel.Storage;

namespace Modulith.Host.Connectors.Instances;

/// <summary>Body of <c>POST /api/connector-instances</c>.</summary>
/// <param name="ConnectorId">The connector (see <c>GET /api/connectors</c>).</param>
/// <param name="Name">A name for this connection (e.g. the shop's domain).</param>
/// <param name="Settings">Setting values by name, as the connector's configuration schema describes them; secrets included.</param>
public sealed record CreateConnectorInstanceRequest(string? ConnectorId, string? Name, IReadOnlyDictionary<string, string?>? Settings);

/// <summary>A connector instance as the API shows it: secret values are never returned.</summary>
/// <param name="Id">The instance id (inbound webhooks are posted to <c>/webhooks/{id}</c>).</param>
/// <param name="ConnectorId">The connector.</param>
/// <param name="Name">The name.</param>
/// <param name="Settings">The non-secret settings.</param>
/// <param name="SecretsSet">The names of the secret settings that have a value.</param>
/// <param name="CreatedAt">When it was created.</param>
public sealed record ConnectorInstanceView(string Id, string ConnectorId, string Name, IReadOnlyDictionary<string, string> Settings, IReadOnlyList<string> SecretsSet, DateTimeOffset CreatedAt);

/// <summary>Stores connector instances; secrets are encrypted with ASP.NET Core Data Protection before they reach the database.</summary>
internal sealed class ConnectorInstanceStore(Database database, IDataProtectionProvider protection, TimeProvider clock)
{
    private readonly IDataProtector _secrets = protection.CreateProtector("Modulith.Connectors.InstanceSecrets.v1");

    public static bool IsValidId(string id) => id.Length == 23 && id.StartsWith("ci_", StringComparison.Ordinal) && id[3..].All(char.IsAsciiHexDigitLower);

    public static string NewId() => "ci_" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(10));

    public async Task<ConnectorInstanceView> CreateAsync(string workspaceId, string connectorId, string name, IReadOnlyDictionary<string, string> settings, IReadOnlyDictionary<string, string> secrets, CancellationToken cancellationToken)
    {
        var view = new ConnectorInstanceView(NewId(), connectorId, name, settings, secrets.Keys.Order(StringComparer.Ordinal).ToList(), clock.GetUtcNow());
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "INSERT INTO connector_instances (id, workspace_id, connector_id, name, settings, secrets, secret_names, created_at) VALUES (@id, @ws, @c, @name, @settings, @secrets, @names, @at)");
        command.With("id", view.Id).With("ws", workspaceId).With("c", connectorId).With("name", name)
            .With("settings", JsonSerializer.Serialize(settings))
            .With("secrets", secrets.Count == 0 ? null : _secrets.Protect(JsonSerializer.Serialize(secrets)))
            .With("names", JsonSerializer.Serialize(view.SecretsSet))
            .With("at", view.CreatedAt.ToString("O", CultureInfo.InvariantCulture));
        await command.ExecuteNonQueryAsync(cancellationToken);
        return view;
    }

    public async Task<IReadOnlyList<ConnectorInstanceView>> ListAsync(string workspaceId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command(
            "SELECT id, connector_id, name, settings, secret_names, created_at FROM connector_instances WHERE workspace_id = @ws ORDER BY created_at, id").With("ws", workspaceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var views = new List<ConnectorInstanceView>();
        while (await reader.ReadAsync(cancellationToken))
        {
            views.Add(new ConnectorInstanceView(
                reader.GetString(0), reader.GetString(1), reader.GetString(2),
                JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(3))!,
                JsonSerializer.Deserialize<List<string>>(reader.GetString(4))!,
                DateTimeOffset.Parse(reader.GetString(5), CultureInfo.InvariantCulture)));
        }

        return views;
    }

    public async Task<string?> GetCursorAsync(string instanceId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT reconcile_cursor FROM connector_instances WHERE id = @id").With("id", instanceId);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task SetCursorAsync(string instanceId, string? cursor, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("UPDATE connector_instances SET reconcile_cursor = @cursor WHERE id = @id").With("cursor", cursor).With("id", instanceId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> BelongsToAsync(string instanceId, string workspaceId, CancellationToken cancellationToken) =>
        await ConnectorOfAsync(instanceId, workspaceId, cancellationToken) is not null;

    /// <summary>The connector of the workspace's instance, or null when the workspace has no such instance (secrets stay encrypted).</summary>
    public async Task<string?> ConnectorOfAsync(string instanceId, string workspaceId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT connector_id FROM connector_instances WHERE id = @id AND workspace_id = @ws").With("id", instanceId).With("ws", workspaceId);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>The instance's settings with secrets decrypted, for the connector only (never for an API answer or a log).</summary>
    public async Task<(string ConnectorId, ConnectorSettings Settings)?> ResolveAsync(string instanceId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var command = connection.Command("SELECT workspace_id, connector_id, settings, secrets FROM connector_instances WHERE id = @id").With("id", instanceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var values = JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(2))!;
        if (!reader.IsDBNull(3))
        {
            foreach (var (key, value) in JsonSerializer.Deserialize<Dictionary<string, string>>(_secrets.Unprotect(reader.GetString(3)))!)
            {
                values[key] = value;
            }
        }

        return (reader.GetString(1), new ConnectorSettings(instanceId, reader.GetString(0), values));
    }
}

/// <summary>Checks instance settings against the connector's configuration schema (pure).</summary>
internal static class SettingsValidator
{
    public static string? Validate(ConnectorManifest manifest, IReadOnlyDictionary<string, string?> values, out Dictionary<string, string> settings, out Dictionary<string, string> secrets)
    {
        settings = new Dictionary<string, string>(StringComparer.Ordinal);
        secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        var schema = manifest.Configuration ?? [];
        var unknown = values.Keys.Where(k => !schema.Any(s => s.Name == k)).ToList();
        if (unknown.Count > 0)
        {
            return $"Unknown setting(s) for connector '{manifest.Id}': {string.Join(", ", unknown)}. Known: {string.Join(", ", schema.Select(s => s.Name))}.";
        }

        foreach (var setting in schema)
        {
            var value = values.GetValueOrDefault(setting.Name)?.Trim();
            if (string.IsNullOrEmpty(value))
            {
                if (setting.Required)
                {
                    return $"The setting '{setting.Name}' is required.";
                }

                continue;
            }

            var problem = setting.Type switch
            {
                "url" when !Uri.TryCreate(value, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") => "must be an absolute http or https URL",
                "number" when !decimal.TryParse(value, NumberStyles.Number, CultureInfo.InvariantCulture, out _) => "must be a number",
                "boolean" when !bool.TryParse(value, out _) => "must be true or false",
                _ => null,
            };
            if (problem is not null)
            {
                return $"The setting '{setting.Name}' {problem}.";
            }

            (setting.Secret ? secrets : settings)[setting.Name] = value;
        }

        return null;
    }
}
