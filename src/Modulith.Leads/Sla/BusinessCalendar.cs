using System.Globalization;
using Modulith.Leads.Contracts;

namespace Modulith.Leads.Sla;

/// <summary>Public holidays that calendars can include by code.</summary>
internal static class PublicHolidays
{
    /// <summary>Poland's statutory public holidays (Ustawa o dniach wolnych od pracy), with Christmas Eve from 2025.</summary>
    public static IEnumerable<DateOnly> Poland(int year)
    {
        var easter = EasterSunday(year);
        yield return new DateOnly(year, 1, 1);
        yield return new DateOnly(year, 1, 6);
        yield return easter;
        yield return easter.AddDays(1);
        yield return new DateOnly(year, 5, 1);
        yield return new DateOnly(year, 5, 3);
        yield return easter.AddDays(49);
        yield return easter.AddDays(60);
        yield return new DateOnly(year, 8, 15);
        yield return new DateOnly(year, 11, 1);
        yield return new DateOnly(year, 11, 11);
        if (year >= 2025)
        {
            yield return new DateOnly(year, 12, 24);
        }

        yield return new DateOnly(year, 12, 25);
        yield return new DateOnly(year, 12, 26);
    }

    /// <summary>Gregorian Easter Sunday (the anonymous Gregorian algorithm, Meeus/Jones/Butcher).</summary>
    public static DateOnly EasterSunday(int year)
    {
        var a = year % 19;
        var b = year / 100;
        var c = year % 100;
        var d = b / 4;
        var e = b % 4;
        var f = (b + 8) / 25;
        var g = (b - f + 1) / 3;
        var h = ((19 * a) + b - d - g + 15) % 30;
        var i = c / 4;
        var k = c % 4;
        var l = (32 + (2 * e) + (2 * i) - h - k) % 7;
        var m = (a + (11 * h) + (22 * l)) / 451;
        var month = (h + l - (7 * m) + 114) / 31;
        var day = ((h + l - (7 * m) + 114) % 31) + 1;
        return new DateOnly(year, month, day);
    }
}

/// <summary>Business time in a time zone: working hours per weekday, minus public and extra holidays (pure).</summary>
internal sealed class BusinessCalendar
{
    private const int MaxDays = 3_660;

    private readonly TimeZoneInfo _zone;
    private readonly Dictionary<DayOfWeek, List<(TimeOnly From, TimeOnly To)>> _hours;
    private readonly string? _holidays;
    private readonly HashSet<DateOnly> _extra;

    private BusinessCalendar(TimeZoneInfo zone, Dictionary<DayOfWeek, List<(TimeOnly, TimeOnly)>> hours, string? holidays, HashSet<DateOnly> extra)
    {
        _zone = zone;
        _hours = hours;
        _holidays = holidays;
        _extra = extra;
    }

    /// <summary>Around the clock, every day.</summary>
    public static BusinessCalendar AlwaysOpen { get; } = new(TimeZoneInfo.Utc,
        Enum.GetValues<DayOfWeek>().ToDictionary(d => d, _ => new List<(TimeOnly, TimeOnly)> { (TimeOnly.MinValue, TimeOnly.MaxValue) }), null, []);

    public bool IsAlwaysOpen => ReferenceEquals(this, AlwaysOpen);

    /// <summary>Builds a calendar, or answers why the definition is not valid.</summary>
    public static BusinessCalendar? TryCreate(BusinessCalendarDefinition definition, out string? error)
    {
        error = null;
        TimeZoneInfo zone;
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(definition.TimeZone ?? "UTC");
        }
        catch (Exception exception) when (exception is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            error = $"the time zone '{definition.TimeZone}' is not known (use an IANA id such as Europe/Warsaw)";
            return null;
        }

        var hours = new Dictionary<DayOfWeek, List<(TimeOnly, TimeOnly)>>();
        foreach (var (dayName, ranges) in definition.WorkingHours ?? new Dictionary<string, IReadOnlyList<string>>())
        {
            if (!Enum.TryParse<DayOfWeek>(dayName, ignoreCase: true, out var day) || int.TryParse(dayName, out _))
            {
                error = $"'{dayName}' is not a day (monday ... sunday)";
                return null;
            }

            var list = new List<(TimeOnly, TimeOnly)>();
            foreach (var range in ranges)
            {
                if (!TryRange(range, out var from, out var to))
                {
                    error = $"'{range}' is not a range like 09:00-17:00";
                    return null;
                }

                list.Add((from, to));
            }

            hours[day] = [.. list.OrderBy(r => r.Item1)];
        }

        if (hours.Values.All(h => h.Count == 0))
        {
            error = "a calendar needs working hours on at least one day";
            return null;
        }

        if (definition.Holidays is { } code && code != "PL")
        {
            error = $"built-in holidays are 'PL' (Poland); '{code}' is not known";
            return null;
        }

        var extra = new HashSet<DateOnly>();
        foreach (var date in definition.ExtraHolidays ?? [])
        {
            if (!DateOnly.TryParseExact(date, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
            {
                error = $"'{date}' is not a date (yyyy-MM-dd)";
                return null;
            }

            extra.Add(parsed);
        }

        return new BusinessCalendar(zone, hours, definition.Holidays, extra);
    }

    /// <summary>"HH:mm-HH:mm" with the end after the start; "24:00" ends a day.</summary>
    public static bool TryRange(string range, out TimeOnly from, out TimeOnly to)
    {
        from = to = default;
        var parts = range.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || !TimeOnly.TryParseExact(parts[0], "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out from))
        {
            return false;
        }

        if (parts[1] == "24:00")
        {
            to = TimeOnly.MaxValue;
            return true;
        }

        return TimeOnly.TryParseExact(parts[1], "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out to) && to > from;
    }

    public bool IsHoliday(DateOnly date) =>
        _extra.Contains(date) || (_holidays == "PL" && PublicHolidays.Poland(date.Year).Contains(date));

    /// <summary>Whether the instant falls in working hours.</summary>
    public bool IsOpen(DateTimeOffset at)
    {
        var local = TimeZoneInfo.ConvertTime(at, _zone);
        var date = DateOnly.FromDateTime(local.DateTime);
        var time = TimeOnly.FromDateTime(local.DateTime);
        return !IsHoliday(date) && _hours.TryGetValue(local.DayOfWeek, out var ranges) && ranges.Exists(r => time >= r.From && time < r.To);
    }

    /// <summary>The instant when <paramref name="duration"/> of business time has passed after <paramref name="start"/>.</summary>
    public DateTimeOffset Add(DateTimeOffset start, TimeSpan duration)
    {
        if (IsAlwaysOpen || duration <= TimeSpan.Zero)
        {
            return start + (duration > TimeSpan.Zero ? duration : TimeSpan.Zero);
        }

        var remaining = duration;
        foreach (var (from, to) in Intervals(start))
        {
            var length = to - from;
            if (remaining <= length)
            {
                return from + remaining;
            }

            remaining -= length;
        }

        throw new InvalidOperationException("The calendar has no working time within ten years.");
    }

    /// <summary>Business time between two instants.</summary>
    public TimeSpan Between(DateTimeOffset start, DateTimeOffset end)
    {
        if (end <= start)
        {
            return TimeSpan.Zero;
        }

        if (IsAlwaysOpen)
        {
            return end - start;
        }

        var total = TimeSpan.Zero;
        foreach (var (from, to) in Intervals(start))
        {
            if (from >= end)
            {
                break;
            }

            total += (to < end ? to : end) - from;
        }

        return total;
    }

    /// <summary>Working intervals from <paramref name="start"/> on, in order, clipped to start after it.</summary>
    private IEnumerable<(DateTimeOffset From, DateTimeOffset To)> Intervals(DateTimeOffset start)
    {
        var localStart = TimeZoneInfo.ConvertTime(start, _zone);
        var day = DateOnly.FromDateTime(localStart.DateTime);
        for (var i = 0; i < MaxDays; i++, day = day.AddDays(1))
        {
            if (IsHoliday(day) || !_hours.TryGetValue(day.DayOfWeek, out var ranges))
            {
                continue;
            }

            foreach (var (fromTime, toTime) in ranges)
            {
                var from = ToInstant(day, fromTime);
                var to = toTime == TimeOnly.MaxValue ? ToInstant(day.AddDays(1), TimeOnly.MinValue) : ToInstant(day, toTime);
                if (to <= start)
                {
                    continue;
                }

                yield return (from < start ? start : from, to);
            }
        }
    }

    private DateTimeOffset ToInstant(DateOnly day, TimeOnly time)
    {
        var local = day.ToDateTime(time, DateTimeKind.Unspecified);
        if (_zone.IsInvalidTime(local))
        {
            local = local.AddHours(1); // the hour skipped when clocks go forward
        }

        return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, _zone), TimeSpan.Zero);
    }
}
