namespace Modulith.SharedKernel.Grains;

/// <summary>Grain references for the hot paths.</summary>
public static class GrainFactoryExtensions
{
    /// <summary>
    /// The same reference as <c>GetGrain&lt;T&gt;(key)</c>. Orleans' own overload formats and parses the interface's type
    /// name on every call; this one resolves the grain and interface types once per interface.
    /// </summary>
    public static T GetGrainByKey<T>(this IGrainFactory grains, string key) where T : IGrainWithStringKey
    {
        var types = TypesOf<T>.Resolve(grains);
        return (T)grains.GetGrain(GrainId.Create(types.Grain, key), types.Interface);
    }

    private sealed record ResolvedTypes(GrainType Grain, GrainInterfaceType Interface);

    private static class TypesOf<T> where T : IGrainWithStringKey
    {
        // A reference, so a thread that reads it while another writes it sees all of it or nothing.
        private static ResolvedTypes? _types;

        // Both types follow from T's names and attributes alone, so every silo of the process agrees on them.
        public static ResolvedTypes Resolve(IGrainFactory grains)
        {
            if (Volatile.Read(ref _types) is { } known)
            {
                return known;
            }

            var sample = (GrainReference)(object)grains.GetGrain<T>("_");
            var types = new ResolvedTypes(sample.GrainId.Type, sample.InterfaceType);
            Volatile.Write(ref _types, types);
            return types;
        }
    }
}
