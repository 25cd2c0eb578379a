using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace DistillSpec.Bench;

/// <summary>
/// Start-up time of the published dspec (single file, ReadyToRun) against the framework-dependent
/// build run through `dotnet`, on the same commands, runs interleaved so load drifts hit both alike;
/// and decode speed once started, since precompiled code must not cost steady-state speed.
/// </summary>
internal static class StartupBenchCommand
{
    private sealed record Case(string Name, string Arguments);

    private sealed record Row(string Case, double PublishedMs, double DotnetMs)
    {
        public double Ratio => DotnetMs / PublishedMs;
    }

    private sealed record Decode(double PublishedTokensPerSecond, double DotnetTokensPerSecond)
    {
        public double Ratio => PublishedTokensPerSecond / DotnetTokensPerSecond;
    }

    public static Command Create()
    {
        var published = new Option<string>("--published") { Description = "the published dspec executable (tools/publish/publish.sh)", DefaultValueFactory = _ => "artifacts/dspec/dspec" };
        var dll = new Option<string>("--dll") { Description = "the framework-dependent dspec.dll", DefaultValueFactory = _ => "tools/cli/bin/Release/net10.0/dspec.dll" };
        var runs = new Option<int>("--runs") { Description = "runs of each command per variant", DefaultValueFactory = _ => 10 };
        var output = new Option<string>("--out") { Description = "JSON report path", DefaultValueFactory = _ => "reports/bench-startup.json" };
        var command = new Command("startup", "start-up time of the published single-file dspec vs `dotnet dspec.dll`") { published, dll, runs, output };
        command.SetAction(r => Run(r.GetValue(published)!, r.GetValue(dll)!, r.GetValue(runs), r.GetValue(output)!));
        return command;
    }

    private static int Run(string published, string dll, int runs, string output)
    {
        foreach (var file in new[] { published, dll })
            if (!File.Exists(file))
            {
                Console.Error.WriteLine($"error: '{file}' does not exist; run tools/publish/publish.sh and build tools/cli in Release first");
                return 1;
            }
        Case[] cases =
        [
            new("--version", "--version"),
            new("generate 1 token (random-tiny)", "generate -m weights/random-tiny -p a -n 1 --temp 0 -t 1 --device cpu"),
        ];
        var rows = new List<Row>();
        foreach (var c in cases)
        {
            var ours = new List<double>();
            var dotnet = new List<double>();
            Time(published, c.Arguments);
            Time("dotnet", $"{dll} {c.Arguments}");
            for (int i = 0; i < runs; i++)
            {
                ours.Add(Time(published, c.Arguments));
                dotnet.Add(Time("dotnet", $"{dll} {c.Arguments}"));
            }
            rows.Add(new Row(c.Name, Median.Of(ours), Median.Of(dotnet)));
        }
        const string decodeArguments = "generate -m weights/target -p def -n 256 --temp 0 -t 1 --device cpu";
        var oursDecode = new List<double>();
        var dotnetDecode = new List<double>();
        for (int i = 0; i < Math.Max(3, runs / 2); i++)
        {
            oursDecode.Add(DecodeRate(published, decodeArguments));
            dotnetDecode.Add(DecodeRate("dotnet", $"{dll} {decodeArguments}"));
        }
        var decode = new Decode(Median.Of(oursDecode), Median.Of(dotnetDecode));

        var table = new Table().Title($"dspec start-up, median of {runs} runs each");
        foreach (var column in new[] { "command", "published (ms)", "dotnet dspec.dll (ms)", "dll / published" }) table.AddColumn(column);
        foreach (var row in rows) table.AddRow(Markup.Escape(row.Case), $"{row.PublishedMs:F0}", $"{row.DotnetMs:F0}", $"{row.Ratio:F2}x");
        AnsiConsole.Write(table);
        Console.WriteLine($"decode once started (weights/target, 256 tokens, 1 thread, median): published {decode.PublishedTokensPerSecond:F0} tok/s, " +
                          $"dotnet {decode.DotnetTokensPerSecond:F0} tok/s, ratio {decode.Ratio:F2}");
        IO.AtomicFile.WriteAllText(output, JsonSerializer.Serialize(new { published, dll, runs, rows, decode }, new JsonSerializerOptions { WriteIndented = true }));
        Console.WriteLine($"wrote {output}");
        return 0;
    }

    private static double Time(string program, string arguments) => ChildProcess.Run(program, arguments).Milliseconds;

    // generate's "decode: N tokens in T ms, R tokens/s" line on stderr.
    private static double DecodeRate(string program, string arguments)
    {
        var line = ChildProcess.Run(program, arguments).Stderr.Split('\n').Single(l => l.StartsWith("decode:", StringComparison.Ordinal));
        var words = line.Split(' ');
        return double.Parse(words[Array.IndexOf(words, "tokens/s") - 1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
