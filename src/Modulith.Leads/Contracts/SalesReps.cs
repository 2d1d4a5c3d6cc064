namespace Modulith.Leads.Contracts;

/// <summary>A sales rep (or customer service agent) who takes leads.</summary>
/// <param name="Id">Unique in the workspace (letters, digits, _ and -).</param>
/// <param name="Name">Display name.</param>
/// <param name="Email">Where notifications (assignments, reminders) go.</param>
/// <param name="Team">The team (assignment may be limited to one).</param>
/// <param name="ManagerId">The rep who gets escalations.</param>
/// <param name="TimeZone">IANA time zone of the working hours (e.g. Europe/Warsaw).</param>
/// <param name="WorkingHours">Working hours by day (monday ... sunday), each a list of "HH:mm-HH:mm" ranges.</param>
/// <param name="OutOfOffice">Periods the rep is away.</param>
/// <param name="Capacity">The most open leads (MQL, SQL, Accepted) the rep holds; null: unlimited.</param>
/// <param name="Weight">Relative share in weighted assignment (default 1).</param>
/// <param name="Territories">Countries (ISO codes) or regions the rep covers.</param>
/// <param name="Skills">Skills (languages, products) assignment rules can ask for.</param>
/// <param name="Active">Inactive reps get no leads.</param>
public sealed record SalesRep(
    string? Id,
    string? Name,
    string? Email = null,
    string? Team = null,
    string? ManagerId = null,
    string? TimeZone = null,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? WorkingHours = null,
    IReadOnlyList<OutOfOfficePeriod>? OutOfOffice = null,
    int? Capacity = null,
    double? Weight = null,
    IReadOnlyList<string>? Territories = null,
    IReadOnlyList<string>? Skills = null,
    bool Active = true);

/// <summary>A period a rep is away.</summary>
/// <param name="From">Start.</param>
/// <param name="To">End.</param>
public sealed record OutOfOfficePeriod(DateTimeOffset From, DateTimeOffset To);
