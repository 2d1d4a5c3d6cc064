namespace Modulith.Connectors.Sdk;

/// <summary>The SDK's version. A plugin states the SDK version it was built for in its manifest.</summary>
public static class SdkInfo
{
    /// <summary>The SDK version of this build (semantic versioning).</summary>
    public const string Version = "1.0.0";

    /// <summary>Plugins built for the same major version load; others are refused with a clear message.</summary>
    public const int Major = 1;
}
