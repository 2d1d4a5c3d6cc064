using Modulith.Leads.Contracts;
using Modulith.Leads.Sla;

namespace Modulith.UnitTests.Leads;

public sealed class BusinessCalendarTests
{
    private static readonly Dictionary<string, IReadOnlyList<string>> OfficeHours = new()
    {
        ["monday"] = ["09:00-17:00"], ["tuesday"] = ["09:00-17:00"], ["wednesday"] = ["09:00-17:00"], ["thursday"] = ["09:00-17:00"], ["friday"] = ["09:00-17:00"],
    };

    private static BusinessCalendar Warsaw(params string[] extra) =>
        BusinessCalendar.TryCreate(new BusinessCalendarDefinition("office", "Europe/Warsaw", OfficeHours, "PL", extra), out _)!;

    private static DateTimeOffset Local(int year, int month, int day, int hour, int minute = 0) =>
        new(year, month, day, hour, minute, 0, TimeZoneInfo.FindSystemTimeZoneById("Europe/Warsaw").GetUtcOffset(new DateTime(year, month, day, hour, minute, 0)));

    [Theory]
    [InlineData(2026, 4, 5)]
    [InlineData(2025, 4, 20)]
    [InlineData(2024, 3, 31)]
    [InlineData(2000, 4, 23)]
    public void Easter_sunday_is_computed(int year, int month, int day) =>
        Assert.Equal(new DateOnly(year, month, day), PublicHolidays.EasterSunday(year));

    [Fact]
    public void Polish_holidays_include_the_movable_feasts_and_christmas_eve_from_2025()
    {
        var holidays2026 = PublicHolidays.Poland(2026).ToHashSet();
        Assert.Contains(new DateOnly(2026, 4, 6), holidays2026);   // Easter Monday
        Assert.Contains(new DateOnly(2026, 5, 24), holidays2026);  // Pentecost
        Assert.Contains(new DateOnly(2026, 6, 4), holidays2026);   // Corpus Christi
        Assert.Contains(new DateOnly(2026, 11, 11), holidays2026);
        Assert.Contains(new DateOnly(2026, 12, 24), holidays2026);
        Assert.DoesNotContain(new DateOnly(2024, 12, 24), PublicHolidays.Poland(2024));
        Assert.Equal(14, holidays2026.Count);
    }

    [Fact]
    public void An_hour_asked_late_on_friday_ends_on_monday_morning()
    {
        var friday = Local(2026, 11, 20, 16, 30);
        Assert.Equal(Local(2026, 11, 23, 9, 30), Warsaw().Add(friday, TimeSpan.FromHours(1)));
    }

    [Fact]
    public void Public_and_extra_holidays_are_skipped()
    {
        // Tuesday 10 November 2026, 16:00 + 2 h: Wednesday is Independence Day, Thursday an extra holiday, so Friday 10:00.
        var calendar = Warsaw("2026-11-12");
        Assert.Equal(Local(2026, 11, 13, 10), calendar.Add(Local(2026, 11, 10, 16), TimeSpan.FromHours(2)));
    }

    [Fact]
    public void A_request_outside_hours_starts_counting_at_the_next_opening()
    {
        Assert.Equal(Local(2026, 11, 23, 9, 15), Warsaw().Add(Local(2026, 11, 21, 11), TimeSpan.FromMinutes(15)));
        Assert.False(Warsaw().IsOpen(Local(2026, 11, 21, 11)));
        Assert.True(Warsaw().IsOpen(Local(2026, 11, 23, 9)));
    }

    [Fact]
    public void Business_time_between_two_instants_counts_only_working_hours()
    {
        Assert.Equal(TimeSpan.FromHours(1), Warsaw().Between(Local(2026, 11, 20, 16, 30), Local(2026, 11, 23, 9, 30)));
        Assert.Equal(TimeSpan.FromMinutes(90), BusinessCalendar.AlwaysOpen.Between(Local(2026, 11, 20, 16, 30), Local(2026, 11, 20, 18)));
    }

    [Fact]
    public void Working_hours_follow_the_local_clock_across_a_daylight_saving_change()
    {
        // Clocks go back on Sunday 25 October 2026 in Warsaw: 9:00 local is 07:00 UTC on Friday and 08:00 UTC on Monday.
        var result = Warsaw().Add(Local(2026, 10, 23, 16), TimeSpan.FromHours(2));
        Assert.Equal(new DateTimeOffset(2026, 10, 26, 9, 0, 0, TimeSpan.Zero), result.ToUniversalTime());
    }

    [Fact]
    public void Invalid_definitions_are_refused_with_the_reason()
    {
        Assert.Null(BusinessCalendar.TryCreate(new BusinessCalendarDefinition("x", "Nowhere/City", OfficeHours), out var zone));
        Assert.Contains("time zone", zone);
        Assert.Null(BusinessCalendar.TryCreate(new BusinessCalendarDefinition("x", "UTC", new Dictionary<string, IReadOnlyList<string>> { ["funday"] = ["09:00-10:00"] }), out var day));
        Assert.Contains("funday", day);
        Assert.Null(BusinessCalendar.TryCreate(new BusinessCalendarDefinition("x", "UTC", OfficeHours, "DE"), out var holidays));
        Assert.Contains("'DE'", holidays);
    }
}
