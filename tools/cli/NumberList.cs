using System.Globalization;

namespace DistillSpec.Cli;

/// <summary>Comma-separated sweep values: "1,2,4" or ranges "1-8" for integers.</summary>
internal static class NumberList
{
    /// <summary>Integers in [min, max]; range ends are checked before a range is expanded (1-2000000000 is an error, not 8 GB).</summary>
    public static int[] Ints(string text, string option, int min, int max) =>
        Split(text, option).SelectMany(part =>
        {
            int dash = part.IndexOf('-', 1);
            if (dash < 0) return [Int(part, option, min, max)];
            int from = Int(part[..dash], option, min, max), to = Int(part[(dash + 1)..], option, min, max);
            if (to < from) throw new FormatException($"{option}: range '{part}' runs backwards");
            return Enumerable.Range(from, to - from + 1);
        }).Distinct().ToArray();

    public static float[] Floats(string text, string option) =>
        Split(text, option).Select(part => float.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out float x)
            ? x : throw new FormatException($"{option}: '{part}' is not a number")).Distinct().ToArray();

    private static string[] Split(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Length > 0 ? parts : throw new FormatException($"{option}: expected a comma-separated list, got '{text}'");
    }

    private static int Int(string s, string option, int min, int max)
    {
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int x)) throw new FormatException($"{option}: '{s}' is not an integer");
        return x >= min && x <= max ? x : throw new FormatException($"{option}: {x} is outside {min}..{max}");
    }
}
