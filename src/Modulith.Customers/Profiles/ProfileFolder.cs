using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Modulith.Customers.Contracts;
using Modulith.Customers.Identity;
using Modulith.Customers.Touchpoints;
using Modulith.Ingestion.Contracts;
using Modulith.SharedKernel;

namespace Modulith.Customers.Profiles;

/// <summary>Folds events into a customer's state (pure and idempotent: an event seen before changes nothing).</summary>
internal static class ProfileFolder
{
    public static readonly TimeSpan SessionTimeout = TimeSpan.FromMinutes(30);

    // At least the latest RememberedEvents are kept. Trimmed a tenth at a time, so that a busy profile does not shift the
    // whole list at every event.
    private const int RememberedAtMost = CustomerState.RememberedEvents + (CustomerState.RememberedEvents / 10);

    public static bool Apply(CustomerState state, IngestedEvent e, string? defaultPhoneRegion)
    {
        if (state.RecentSequences.Contains(e.Sequence) || state.RecentMessageIds.Contains(e.MessageId))
        {
            // Recent events are not stored: an event redelivered after a restart is not among them yet.
            if (state.ErasedAt is null)
            {
                AddRecentEvents(state, [e]);
            }

            return false;
        }

        MakeRoom(state.RecentSequences, 16, RememberedAtMost + 1);
        state.RecentSequences.Add(e.Sequence);
        ForgetOldest(state);

        var payload = JsonNode.Parse(e.Payload) as JsonObject ?? [];
        state.LastSequence = Math.Max(state.LastSequence, e.Sequence);
        state.FirstSeen = Min(state.FirstSeen, e.Timestamp);
        state.LastSeen = Max(state.LastSeen, e.Timestamp);
        state.Counters.Events++;

        foreach (var identity in IdentitiesOf(e, payload, defaultPhoneRegion))
        {
            AddIdentity(state, identity, e.Timestamp);
        }

        var context = payload["context"] as JsonObject;
        var properties = payload["properties"] as JsonObject;
        ApplyTraits(state, payload["traits"] as JsonObject, e.Type is "identify");
        ApplyTraits(state, context?["traits"] as JsonObject, overwrite: false);
        ApplyConsents(state, (context?["consent"] as JsonObject)?["categoryPreferences"] as JsonObject, "context.consent", e.Timestamp);
        ApplyConsents(state, (payload["traits"] as JsonObject)?["consents"] as JsonObject, "traits.consents", e.Timestamp);
        if (e.Type == "group" && payload["groupId"]?.ToString() is { } groupId && !state.GroupIds.Contains(groupId))
        {
            state.GroupIds.Add(groupId);
        }

        var newSession = TrackSession(state.Counters, e.Timestamp);
        ApplyTouchpoint(state, e, context, e.Type == "page" ? properties : null, newSession);

        if (e.Type == "track" && e.Name is not null)
        {
            state.Counters.EventCounts[SharedStrings.Of(e.Name)!] = state.Counters.EventCounts.GetValueOrDefault(e.Name) + 1;
            switch (e.Name)
            {
                case "Product Viewed":
                    state.Counters.ProductViews++;
                    break;
                case "Order Completed":
                    ApplyOrder(state, properties, e.Timestamp);
                    break;
                case "Order Refunded":
                    state.Orders.Refunded += OrderFacts.RefundAmount(properties) ?? 0;
                    break;
            }
        }
        else if (e.Type is "page" or "screen")
        {
            state.Counters.PageViews++;
        }

        AddRecentEvent(state, e);
        return true;
    }

    /// <summary>Adds events to the recent ones, once each, keeping the latest <see cref="CustomerState.RecentEventCount"/>.</summary>
    public static void AddRecentEvents(CustomerState state, IEnumerable<IngestedEvent> events)
    {
        foreach (var e in events)
        {
            if (!state.RecentEvents.Exists(r => r.MessageId == e.MessageId))
            {
                AddRecentEvent(state, e);
            }
        }
    }

    private static void AddRecentEvent(CustomerState state, IngestedEvent e)
    {
        MakeRoom(state.RecentEvents, 8, CustomerState.RecentEventCount + 1);
        state.RecentEvents.Add(new RecentEvent { Sequence = e.Sequence, MessageId = e.MessageId, Type = SharedStrings.Of(e.Type)!, Name = SharedStrings.Of(e.Name), Timestamp = e.Timestamp });
        if (state.RecentEvents.Count > CustomerState.RecentEventCount)
        {
            state.RecentEvents.Sort((a, b) => a.Timestamp.CompareTo(b.Timestamp));
            state.RecentEvents.RemoveRange(0, state.RecentEvents.Count - CustomerState.RecentEventCount);
        }
    }

    /// <summary>The identifiers an event carries, normalised, in resolution priority.</summary>
    public static IReadOnlyList<IdentityKey> IdentitiesOf(IngestedEvent e, string? defaultPhoneRegion)
    {
        string? email = null;
        string? phone = null;
        // Most events carry no traits, and identity resolution reads nothing else of the payload: only those are parsed.
        // A backslash may spell a property name in escapes, so such payloads are parsed too.
        if (e.Payload.Contains("traits", StringComparison.Ordinal) || e.Payload.Contains('\\', StringComparison.Ordinal))
        {
            using var document = JsonDocument.Parse(e.Payload);
            var traits = Child(document.RootElement, "traits");
            var contextTraits = Child(Child(document.RootElement, "context"), "traits");
            email = Text(traits, "email") ?? Text(contextTraits, "email");
            phone = Text(traits, "phone") ?? Text(contextTraits, "phone");
        }

        return IdentitiesOf(e, email, phone, defaultPhoneRegion);
    }

    private static IReadOnlyList<IdentityKey> IdentitiesOf(IngestedEvent e, JsonObject payload, string? defaultPhoneRegion)
    {
        var traits = payload["traits"] as JsonObject;
        var contextTraits = (payload["context"] as JsonObject)?["traits"] as JsonObject;
        return IdentitiesOf(e, Text(traits?["email"]) ?? Text(contextTraits?["email"]), Text(traits?["phone"]) ?? Text(contextTraits?["phone"]), defaultPhoneRegion);
    }

    private static List<IdentityKey> IdentitiesOf(IngestedEvent e, string? rawEmail, string? rawPhone, string? defaultPhoneRegion)
    {
        var keys = new List<IdentityKey>(4);
        if (e.UserId is not null)
        {
            keys.Add(new IdentityKey(IdentityKey.UserId, e.UserId));
        }

        if (IdentityNormalizer.Email(rawEmail) is { } email)
        {
            keys.Add(new IdentityKey(IdentityKey.Email, email));
        }

        if (IdentityNormalizer.Phone(rawPhone, defaultPhoneRegion) is { } phone)
        {
            keys.Add(new IdentityKey(IdentityKey.Phone, phone));
        }

        if (e.AnonymousId is not null)
        {
            keys.Add(new IdentityKey(IdentityKey.AnonymousId, e.AnonymousId));
        }

        if (e.Type == "alias" && e.PreviousId is not null && e.PreviousId != e.UserId)
        {
            // Segment's alias links an earlier id (usually the anonymous one, sometimes an older userId) to the userId.
            keys.Add(new IdentityKey(IdentityKey.AnonymousId, e.PreviousId));
        }

        return keys;
    }

    private static JsonElement Child(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var child) ? child : default;

    // The same reading as Text(JsonNode): a non-empty string, or a number as written.
    private static string? Text(JsonElement parent, string name) => Child(parent, name) switch
    {
        { ValueKind: JsonValueKind.String } text => text.GetString() is { Length: > 0 } value ? value : null,
        { ValueKind: JsonValueKind.Number } number => number.GetRawText(),
        _ => null,
    };

    public static void AddIdentity(CustomerState state, IdentityKey identity, DateTimeOffset at)
    {
        if (state.DisputedIdentities.Contains(identity.ToString()))
        {
            return;
        }

        if (!state.Identities.Exists(i => i.Kind == identity.Kind && i.Value == identity.Value))
        {
            state.Identities.Add(new IdentityEntry { Kind = identity.Kind, Value = identity.Value, FirstSeen = at });
        }
    }

    /// <summary>Adds another profile's state into this one (a merge). Counters add up; traits of this profile win.</summary>
    public static void Absorb(CustomerState target, CustomerState source)
    {
        foreach (var identity in source.Identities)
        {
            target.DisputedIdentities.Remove($"{identity.Kind}:{identity.Value}");
            AddIdentity(target, new IdentityKey(identity.Kind, identity.Value), identity.FirstSeen);
        }

        foreach (var (key, value) in source.Traits)
        {
            target.Traits.TryAdd(key, value);
        }

        foreach (var (key, consent) in source.Consents)
        {
            if (!target.Consents.TryGetValue(key, out var existing) || existing.At < consent.At)
            {
                target.Consents[key] = consent;
            }
        }

        foreach (var orderId in source.Orders.OrderIds.Where(id => !target.Orders.OrderIds.Contains(id)))
        {
            target.Orders.OrderIds.Add(orderId);
        }

        target.Orders.Count += source.Orders.Count;
        target.Orders.Revenue += source.Orders.Revenue;
        target.Orders.Refunded += source.Orders.Refunded;
        target.Orders.Currency ??= source.Orders.Currency;
        target.Orders.FirstOrderAt = Min(target.Orders.FirstOrderAt, source.Orders.FirstOrderAt);
        target.Orders.LastOrderAt = Max(target.Orders.LastOrderAt, source.Orders.LastOrderAt);
        target.Touchpoints.AddRange(source.Touchpoints);
        target.Touchpoints.Sort((a, b) => a.At.CompareTo(b.At));
        DropImplicitDirectTouchesBeforeASource(target.Touchpoints);
        TrimTouchpoints(target);

        var c = target.Counters;
        var s = source.Counters;
        c.Events += s.Events;
        c.ProductViews += s.ProductViews;
        c.PageViews += s.PageViews;
        c.Sessions += s.Sessions;
        c.ClosedSessionSeconds += s.ClosedSessionSeconds;
        MergeOpenSessions(c, s);
        foreach (var (name, count) in s.EventCounts)
        {
            c.EventCounts[name] = c.EventCounts.GetValueOrDefault(name) + count;
        }

        target.RecentEvents.AddRange(source.RecentEvents);
        target.RecentEvents.Sort((a, b) => a.Timestamp.CompareTo(b.Timestamp));
        if (target.RecentEvents.Count > CustomerState.RecentEventCount)
        {
            target.RecentEvents.RemoveRange(0, target.RecentEvents.Count - CustomerState.RecentEventCount);
        }

        target.RecentSequences.AddRange(source.RecentSequences);
        target.RecentSequences.Sort();
        target.RecentMessageIds.AddRange(source.RecentMessageIds);
        if (target.RecentMessageIds.Count > CustomerState.RememberedEvents)
        {
            target.RecentMessageIds.RemoveRange(0, target.RecentMessageIds.Count - CustomerState.RememberedEvents);
        }

        ForgetOldest(target);

        target.GroupIds.AddRange(source.GroupIds.Where(g => !target.GroupIds.Contains(g)));
        foreach (var absorbed in source.AbsorbedCustomerIds.Prepend(source.Id).Where(id => !target.AbsorbedCustomerIds.Contains(id)))
        {
            target.AbsorbedCustomerIds.Add(absorbed);
        }

        target.FirstSeen = Min(target.FirstSeen, source.FirstSeen);
        target.LastSeen = Max(target.LastSeen, source.LastSeen);
        target.LastSequence = Math.Max(target.LastSequence, source.LastSequence);
    }

    /// <summary>Keeps one open session: overlapping ones are the same visit (counted once), an older one is closed.</summary>
    private static void MergeOpenSessions(Counters target, Counters source)
    {
        if (source.SessionStart is not { } sourceStart || source.SessionLast is not { } sourceLast)
        {
            return;
        }

        if (target.SessionStart is not { } targetStart || target.SessionLast is not { } targetLast)
        {
            (target.SessionStart, target.SessionLast) = (sourceStart, sourceLast);
            return;
        }

        if (sourceStart <= targetLast + SessionTimeout && targetStart <= sourceLast + SessionTimeout)
        {
            target.SessionStart = sourceStart < targetStart ? sourceStart : targetStart;
            target.SessionLast = sourceLast > targetLast ? sourceLast : targetLast;
            target.Sessions--;
        }
        else if (sourceLast > targetLast)
        {
            target.ClosedSessionSeconds += (targetLast - targetStart).TotalSeconds;
            (target.SessionStart, target.SessionLast) = (sourceStart, sourceLast);
        }
        else
        {
            target.ClosedSessionSeconds += (sourceLast - sourceStart).TotalSeconds;
        }
    }

    private static bool TrackSession(Counters counters, DateTimeOffset at)
    {
        if (counters.SessionStart is null || counters.SessionLast is null)
        {
            counters.SessionStart = at;
            counters.SessionLast = at;
            counters.Sessions++;
            return true;
        }

        if (at - counters.SessionLast.Value > SessionTimeout)
        {
            counters.ClosedSessionSeconds += (counters.SessionLast.Value - counters.SessionStart.Value).TotalSeconds;
            counters.SessionStart = at;
            counters.SessionLast = at;
            counters.Sessions++;
            return true;
        }

        // Late events inside the open session extend it; events older than the open session do not reopen it.
        if (at > counters.SessionLast.Value)
        {
            counters.SessionLast = at;
        }
        else if (at < counters.SessionStart.Value && counters.SessionStart.Value - at <= SessionTimeout)
        {
            counters.SessionStart = at;
        }

        return false;
    }

    private static void ApplyTouchpoint(CustomerState state, IngestedEvent e, JsonObject? context, JsonObject? pageProperties, bool newSession)
    {
        var campaign = context?["campaign"] as JsonObject;
        var page = context?["page"] as JsonObject;
        // Browser clients fill context.page; server clients send the page's url and referrer as page properties.
        var url = Text(page?["url"]) ?? Text(pageProperties?["url"]);
        var query = ParseQuery(url);
        string? Param(string utm, string campaignKey) => Text(campaign?[campaignKey]) ?? query.GetValueOrDefault(utm);

        var source = Param("utm_source", "source");
        var medium = Param("utm_medium", "medium");
        var name = Param("utm_campaign", "name");
        var gclid = query.GetValueOrDefault("gclid") ?? query.GetValueOrDefault("gbraid") ?? query.GetValueOrDefault("wbraid") ?? Text(context?["gclid"]);
        var fbclid = query.GetValueOrDefault("fbclid") ?? Text(context?["fbclid"]);
        var referrer = Text(page?["referrer"]) ?? Text(pageProperties?["referrer"]) ?? Text((context?["referrer"] as JsonObject)?["url"]);
        var referrerHost = HostOf(referrer);
        if (referrerHost is not null && referrerHost == HostOf(url))
        {
            referrerHost = null; // navigation inside the shop is not a new source
        }

        var hasMarketingSignal = source is not null || medium is not null || name is not null || gclid is not null || fbclid is not null || referrerHost is not null;
        if (!newSession && !hasMarketingSignal)
        {
            return;
        }

        if (!hasMarketingSignal && state.Touchpoints.Exists(t => t.At >= e.Timestamp && t.At - e.Timestamp <= SessionTimeout))
        {
            return; // an earlier event of a visit whose touch is already known: not a new direct visit
        }

        var last = state.Touchpoints.Count > 0 ? state.Touchpoints[^1] : null;
        if (!newSession && last is not null && last.Source == source && last.Medium == medium && last.Campaign == name && (referrerHost is null || HostOf(last.Referrer) == referrerHost))
        {
            return; // the same visit reported again by a later event
        }

        // Within one session a real source replaces the session's implicit direct touch: direct never outranks a source.
        var sessionStart = state.Counters.SessionStart;
        if (!newSession && last is { Channel: "direct", Source: null, Referrer: null, ClickId: null } && sessionStart is not null && last.At >= sessionStart)
        {
            state.Touchpoints.Remove(last);
        }

        if (newSession || hasMarketingSignal)
        {
            state.Touchpoints.Add(new Touchpoint
            {
                At = e.Timestamp,
                Channel = ChannelClassifier.Classify(medium, source, referrerHost, gclid is not null, fbclid is not null),
                Source = SharedStrings.Of(source),
                Medium = SharedStrings.Of(medium),
                Campaign = SharedStrings.Of(name),
                Term = SharedStrings.Of(Param("utm_term", "term")),
                Content = SharedStrings.Of(Param("utm_content", "content")),
                Referrer = referrerHost is null ? null : SharedStrings.Of(referrer),
                ClickId = gclid is not null ? "gclid:" + gclid : fbclid is not null ? "fbclid:" + fbclid : null,
                LandingPage = url,
                MessageId = e.MessageId,
            });
            state.Touchpoints.Sort((a, b) => a.At.CompareTo(b.At));
            TrimTouchpoints(state);
        }
    }

    /// <summary>The session rule after a merge: an implicit direct touch followed within a session by a sourced touch is the same visit.</summary>
    private static void DropImplicitDirectTouchesBeforeASource(List<Touchpoint> touchpoints)
    {
        for (var i = touchpoints.Count - 2; i >= 0; i--)
        {
            var touch = touchpoints[i];
            var next = touchpoints[i + 1];
            if (touch is { Channel: "direct", Source: null, Referrer: null, ClickId: null } && next.Channel != "direct" && next.At - touch.At <= SessionTimeout)
            {
                touchpoints.RemoveAt(i);
            }
        }
    }

    private static void TrimTouchpoints(CustomerState state)
    {
        if (state.Touchpoints.Count > CustomerState.TouchpointCount)
        {
            // Keep the first touch (first-touch attribution needs it) and the most recent ones.
            state.Touchpoints.RemoveRange(1, state.Touchpoints.Count - CustomerState.TouchpointCount);
        }
    }

    private static void ApplyOrder(CustomerState state, JsonObject? properties, DateTimeOffset at)
    {
        var orderId = OrderFacts.OrderId(properties);
        if (orderId is not null)
        {
            if (state.Orders.OrderIds.Contains(orderId))
            {
                return;
            }

            state.Orders.OrderIds.Add(orderId);
            if (state.Orders.OrderIds.Count > 500)
            {
                state.Orders.OrderIds.RemoveAt(0);
            }
        }

        var amount = OrderFacts.Amount(properties) ?? 0m;
        state.Orders.Count++;
        state.Orders.Revenue += amount;
        state.Orders.Currency ??= OrderFacts.Currency(properties);
        state.Orders.FirstOrderAt = Min(state.Orders.FirstOrderAt, at);
        state.Orders.LastOrderAt = Max(state.Orders.LastOrderAt, at);
    }

    private static void ApplyTraits(CustomerState state, JsonObject? traits, bool overwrite)
    {
        if (traits is null)
        {
            return;
        }

        foreach (var (key, value) in traits)
        {
            if (key.Length > 100 || key == "consents")
            {
                continue;
            }

            var json = value?.ToJsonString() ?? "null";
            if (overwrite || !state.Traits.ContainsKey(key))
            {
                state.Traits[key] = json;
            }
        }
    }

    private static void ApplyConsents(CustomerState state, JsonObject? preferences, string source, DateTimeOffset at)
    {
        if (preferences is null)
        {
            return;
        }

        foreach (var (purpose, value) in preferences)
        {
            if (value is null || value.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
            {
                continue;
            }

            if (!state.Consents.TryGetValue(purpose, out var existing) || existing.At <= at)
            {
                state.Consents[purpose] = new ConsentEntry { Granted = value.GetValue<bool>(), Source = source, At = at };
            }
        }
    }

    private static string? Text(JsonNode? node) => node?.GetValueKind() switch
    {
        JsonValueKind.String => node.GetValue<string>() is { Length: > 0 } text ? text : null,
        JsonValueKind.Number => node.ToJsonString(),
        _ => null,
    };

    private static Dictionary<string, string> ParseQuery(string? url)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Query.Length < 2)
        {
            return result;
        }

        foreach (var pair in uri.Query[1..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                result.TryAdd(Uri.UnescapeDataString(pair[..eq]), Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' ')));
            }
        }

        return result;
    }

    private static string? HostOf(string? url) =>
        url is not null && Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Host.Length > 0 ? uri.Host.ToLowerInvariant() : null;

    private static DateTimeOffset? Min(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a < b ? a : b;

    private static DateTimeOffset? Max(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;

    // The lists of a profile live long and grow one event at a time. Each new array a list takes is one more reference from
    // the old generation to a young object, which the next collection has to trace (docs/performance.md, session 29), so
    // they grow in few, large steps.
    private static void MakeRoom<T>(List<T> list, int first, int most)
    {
        if (list.Count == list.Capacity && list.Capacity < most)
        {
            list.Capacity = Math.Min(most, Math.Max(first, list.Capacity * 4));
        }
    }

    private static void ForgetOldest(CustomerState state)
    {
        var remembered = state.RecentSequences;
        if (remembered.Count > RememberedAtMost)
        {
            remembered.RemoveRange(0, remembered.Count - CustomerState.RememberedEvents);
        }

        if (remembered.Count >= CustomerState.RememberedEvents && state.RecentMessageIds.Count > 0)
        {
            state.RecentMessageIds.Clear();
            state.RecentMessageIds.TrimExcess();
        }
    }
}
