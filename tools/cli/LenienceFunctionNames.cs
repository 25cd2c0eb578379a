using DistillSpec.Speculative;

namespace DistillSpec.Cli;

/// <summary>The paper's short names of the lenience functions (f_lin, f_sq, f_exp) on the command line.</summary>
internal static class LenienceFunctionNames
{
    private static readonly (string Name, LenienceFunction Function)[] All =
        [("lin", LenienceFunction.Linear), ("sq", LenienceFunction.Squared), ("exp", LenienceFunction.Exponential)];

    public static readonly string Choices = string.Join("|", All.Select(x => x.Name));

    public static string Name(LenienceFunction function) => All.Single(x => x.Function == function).Name;

    public static bool IsName(string name) => All.Any(x => x.Name == name);

    public static LenienceFunction Parse(string name, string option) =>
        IsName(name) ? All.First(x => x.Name == name).Function
            : throw new FormatException($"{option}: '{name}' is not a lenience function; expected one of {Choices}");

    /// <summary>A comma-separated list, duplicates dropped: reproduce sweeps them.</summary>
    public static LenienceFunction[] ParseList(string text, string option)
    {
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0) throw new FormatException($"{option}: expected a comma-separated list of {Choices}, got '{text}'");
        return names.Select(n => Parse(n, option)).Distinct().ToArray();
    }
}
