using System.Data.Common;

namespace Modulith.SharedKernel.Storage;

/// <summary>Small helpers that keep ADO.NET code readable.</summary>
public static class DbCommandExtensions
{
    /// <summary>Creates a command with the given text.</summary>
    public static DbCommand Command(this DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    /// <summary>
    /// Creates a command whose <c>@list</c> (as in <c>IN (@list)</c>) stands for one parameter per value
    /// (<c>@list0, @list1, ...</c>); pass at most a few hundred values per command.
    /// </summary>
    public static DbCommand CommandWithList(this DbConnection connection, string sql, IReadOnlyList<string> values, DbTransaction? transaction = null)
    {
        var command = connection.Command(string.Empty, transaction);
        command.CommandText = sql.Replace("@list", command.WithList("list", values), StringComparison.Ordinal);
        return command;
    }

    /// <summary>
    /// Adds one parameter per value (<c>@{prefix}0, @{prefix}1, ...</c>) and answers the text that stands for them in
    /// <c>IN (...)</c>; with no values it is <c>NULL</c>, which matches nothing.
    /// </summary>
    public static string WithList(this DbCommand command, string prefix, IEnumerable<string> values)
    {
        var names = new List<string>();
        foreach (var value in values)
        {
            var name = "@" + prefix + names.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            command.With(name, value);
            names.Add(name);
        }

        return names.Count == 0 ? "NULL" : string.Join(", ", names);
    }

    /// <summary>Adds a named parameter (<c>@name</c> in the SQL; the <c>@</c> may be omitted); null becomes <see cref="DBNull"/>.</summary>
    public static DbCommand With(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = Prefixed(name);
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return command;
    }

    /// <summary>
    /// The name as the SQL spells it. Microsoft.Data.Sqlite looks a name without its prefix up under every prefix SQLite
    /// knows, on each execution: four lookups, each converting the name to UTF-8, for every parameter of every statement.
    /// Npgsql accepts both forms.
    /// </summary>
    public static string Prefixed(string name) => name.Length > 0 && name[0] is '@' or ':' or '$' ? name : "@" + name;

    /// <summary>Reads a nullable string column.</summary>
    public static string? NullableString(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
