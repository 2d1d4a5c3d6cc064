using System.Xml;

namespace Modulith.SharedKernel.Time;

/// <summary>ISO 8601 durations (<c>PT1H</c>, <c>P30D</c>), the form every route takes and answers.</summary>
public static class IsoDuration
{
    /// <summary>The duration, or null when the text is missing or not an ISO 8601 duration.</summary>
    public static TimeSpan? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return XmlConvert.ToTimeSpan(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The ISO 8601 form of a duration.</summary>
    public static string Format(TimeSpan duration) => XmlConvert.ToString(duration);
}
