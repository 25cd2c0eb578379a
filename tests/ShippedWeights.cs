namespace DistillSpec.Tests;

/// <summary>The models in the repository's weights/ folder, found from the test assembly's location.</summary>
internal static class ShippedWeights
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) return Path.Combine(dir.FullName, "weights");
        throw new DirectoryNotFoundException($"no Engine.sln above {AppContext.BaseDirectory}");
    });

    public static string Target => Path.Combine(Root.Value, "target");

    public static string Draft => Path.Combine(Root.Value, "draft-code-tvd");

    public static string Tiny => Path.Combine(Root.Value, "random-tiny");
}
