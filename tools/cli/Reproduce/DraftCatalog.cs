namespace DistillSpec.Cli.Reproduce;

/// <summary>A draft model directory: "draft-plain", or "draft-TASK-DIVERGENCE" for a draft distilled on TASK.</summary>
internal sealed record DraftEntry(string Name, string Directory, string? DistilledOn, string? Divergence)
{
    public bool Plain => DistilledOn is null;
}

internal static class DraftCatalog
{
    public const string PlainName = "draft-plain";

    /// <summary>Every draft-* directory under weights, the plain draft first.</summary>
    public static List<DraftEntry> Discover(string weights)
    {
        if (!Directory.Exists(Path.Combine(weights, PlainName)))
            throw new DirectoryNotFoundException($"'{weights}' has no {PlainName}/ directory: the non-distilled draft every comparison is made against");
        var drafts = new List<DraftEntry> { new(PlainName, Path.Combine(weights, PlainName), null, null) };
        foreach (string dir in Directory.GetDirectories(weights, "draft-*").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(dir);
            if (name == PlainName) continue;
            var parts = name.Split('-', 3);
            if (parts.Length != 3)
                throw new FormatException($"'{dir}': distilled drafts are named draft-TASK-DIVERGENCE (e.g. draft-code-fkl)");
            drafts.Add(new DraftEntry(name, dir, parts[1], parts[2]));
        }
        return drafts;
    }
}
