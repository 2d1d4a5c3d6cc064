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
        var names = Enumerable.Range(0, values.Count).Select(i => "@list" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var command = connection.Command(sql.Replace("@list", string.Join(", ", names), StringComparison.Ordinal), transaction);
        for (var i = 0; i < values.Count; i++)
        {
            command.With(names[i], values[i]);
        }

        return command;
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
