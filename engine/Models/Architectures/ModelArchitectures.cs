namespace DistillSpec.Models.Architectures;

/// <summary>The registry: every supported architecture, found by Hugging Face class name or by llama.cpp's name.</summary>
internal static class ModelArchitectures
{
    public static IReadOnlyList<ModelArchitecture> All { get; } = [new Llama(), new Qwen2(), new Phi3(), new Gpt2()];

    private static readonly Dictionary<string, ModelArchitecture> s_byHfClass =
        All.SelectMany(a => a.HfClasses.Select(name => (name, a))).ToDictionary(p => p.name, p => p.a, StringComparer.Ordinal);

    private static readonly Dictionary<string, ModelArchitecture> s_byGguf = All.ToDictionary(a => a.GgufName, StringComparer.Ordinal);

    public static IReadOnlyList<string> HfClassNames { get; } = All.SelectMany(a => a.HfClasses).ToList();

    public static IReadOnlyList<string> GgufNames { get; } = All.Select(a => a.GgufName).ToList();

    public static ModelArchitecture? ByHfClass(string className) => s_byHfClass.GetValueOrDefault(className);

    public static ModelArchitecture? ByGgufName(string name) => s_byGguf.GetValueOrDefault(name);

    /// <summary>The class name config.json's "model_type" stands for, when "architectures" is absent.</summary>
    public static string? ClassForModelType(string modelType) =>
        All.SelectMany(a => a.HfClasses.Where(c => a.HfModelType(c) == modelType)).FirstOrDefault();

    /// <summary>The architecture a config was read for; configs are only made for registered class names.</summary>
    public static ModelArchitecture Of(ModelConfig config) =>
        ByHfClass(config.ArchitectureName)
        ?? throw new ArgumentException($"architecture '{config.ArchitectureName}' is not registered; supported: {string.Join(", ", HfClassNames)}", nameof(config));
}
