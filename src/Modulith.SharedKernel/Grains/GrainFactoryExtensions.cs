namespace Modulith.SharedKernel.Grains;

/// <summary>Grain references for the hot paths.</summary>
public static class GrainFactoryExtensions
{
    /// <summary>
    /// The same reference as <c>GetGrain&lt;T&gt;(key)</c>. Orleans' own overload formats and parses the interface's type
    /// name on every call; this one resolves the grain and interface types once per interface.
    /// </summary>
    public static T GetGrainByKey<T>(this IGrainFactory grains, string key) where T : IGrainWithStringKey =>
        (T)grains.GetGrain(GrainId.Create(TypesOf<T>.Resolve(grains).Grain, key), TypesOf<T>.Resolve(grains).Interface);

    private static class TypesOf<T> where T : IGrainWithStringKey
    {
        private static (GrainType Grain, GrainInterfaceType Interface)? _types;

        // Both types follow from T's names and attributes alone, so every silo of the process agrees on them.
        public static (GrainType Grain, GrainInterfaceType Interface) Resolve(IGrainFactory grains)
        {
            if (_types is { } known)
            {
                return known;
            }

            var sample = (GrainReference)(object)grains.GetGrain<T>("_");
            var types = (sample.GrainId.Type, sample.InterfaceType);
            _types = types;
            return types;
        }
    }
}
