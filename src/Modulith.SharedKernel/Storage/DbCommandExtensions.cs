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

    /// <summary>Adds a named parameter; null becomes <see cref="DBNull"/>.</summary>
    public static DbCommand With(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return command;
    }

    /// <summary>Reads a nullable string column.</summary>
    public static string? NullableString(this DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
