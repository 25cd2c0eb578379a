using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace DistillSpec.Bench;

/// <summary>
/// Runs `dspec speculate` several times, each in a fresh process as a new user would, and checks
/// that the first run's wall-clock speed-up agrees with the repeated runs' within a tolerance: a
/// cold first run must not report a speed-up its second run does not.
/// </summary>
internal static class RepeatBenchCommand
{
    private sealed record Run(int Index, double Speedup, double TokensPerSecond, double BaselineTokensPerSecond, double Alpha, double Tau, double WallMs);

    public static Command Create()
    {
        var dll = new Option<string>("--dll") { Description = "the dspec.dll to run", DefaultValueFactory = _ => "tools/cli/bin/Release/net10.0/dspec.dll" };
        var arguments = new Option<string>("--args")
        {
            Description = "speculate arguments (default: the README's main command)",
            DefaultValueFactory = _ => "-m weights/target -md weights/draft-code-jsd-teacher-long --draft-max 5 -p \"def read_config(path):\" -n 96 --temp 0",
        };
        var runs = new Option<int>("--runs") { Description = "fresh processes", DefaultValueFactory = _ => 3 };
        var tolerance = new Option<double>("--tolerance") { Description = "largest relative difference allowed between the first run and a repeated one", DefaultValueFactory = _ => 0.15 };
        var output = new Option<string>("--out") { Description = "JSON report path", DefaultValueFactory = _ => "reports/bench-repeat.json" };
        var command = new Command("repeat", "first vs repeated runs of `dspec speculate` in fresh processes: the speed-ups must agree") { dll, arguments, runs, tolerance, output };
        command.SetAction(r => Execute(r.GetValue(dll)!, r.GetValue(arguments)!, Math.Max(2, r.GetValue(runs)), r.GetValue(tolerance), r.GetValue(output)!));
        return command;
    }

    private static int Execute(string dll, string arguments, int runs, double tolerance, string output)
    {
        if (!File.Exists(dll))
        {
            Console.Error.WriteLine($"error: '{dll}' does not exist; build tools/cli in Release first (dotnet build tools/cli -c Release)");
            return 1;
        }
        string stats = Path.Combine(Path.GetTempPath(), $"dspec-repeat-{Environment.ProcessId}.json");
        var results = new List<Run>();
        try
        {
            for (int i = 1; i <= runs; i++)
            {
                double ms = ChildProcess.Run("dotnet", $"{dll} speculate {arguments} --stats-json {stats}").Milliseconds;
                using var json = JsonDocument.Parse(File.ReadAllText(stats));
                var root = json.RootElement;
                double Get(string name) => root.GetProperty(name).ValueKind == JsonValueKind.Number ? root.GetProperty(name).GetDouble() : double.NaN;
                if (root.GetProperty("speedup_estimated").ValueKind == JsonValueKind.True)
                    throw new InvalidOperationException("speculate reported an estimated speed-up; run it without --profile so it measures one");
                results.Add(new Run(i, Get("speedup"), Get("tokens_per_second"), Get("baseline_tokens_per_second"), Get("alpha"), Get("tau"), ms));
            }
        }
        finally
        {
            File.Delete(stats);
        }

        double first = results[0].Speedup;
        var repeated = results.Skip(1).ToList();
        double worst = repeated.Max(x => Math.Abs(first / x.Speedup - 1));
        bool agree = worst <= tolerance;
        var table = new Table().Title($"dspec speculate {Markup.Escape(arguments)}: {runs} fresh processes");
        foreach (var column in new[] { "run", "speed-up", "speculative tok/s", "target-only tok/s", "alpha", "tau", "wall (ms)" }) table.AddColumn(column);
        foreach (var x in results)
            table.AddRow($"{x.Index}", $"{x.Speedup:F2}x", $"{x.TokensPerSecond:F0}", $"{x.BaselineTokensPerSecond:F0}", $"{x.Alpha:F3}", $"{x.Tau:F2}", $"{x.WallMs:F0}");
        AnsiConsole.Write(table);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"first run {first:F2}x vs repeated {string.Join(", ", repeated.Select(x => x.Speedup.ToString("F2", CultureInfo.InvariantCulture) + "x"))}: " +
            $"largest difference {100 * worst:F1}% ({(agree ? "within" : "OUTSIDE")} {100 * tolerance:F0}%)"));
        IO.AtomicFile.WriteAllText(output, JsonSerializer.Serialize(new { dll, arguments, runs = results, first_vs_repeated_max = worst, tolerance, agree },
            new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {output}");
        return agree ? 0 : 1;
    }
}
