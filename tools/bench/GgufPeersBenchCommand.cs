using System.CommandLine;
using System.Text.Json;
using DistillSpec.Formats.Gguf;
using DistillSpec.Models;
using Spectre.Console;

namespace DistillSpec.Bench;

/// <summary>
/// Ours against llama.cpp on the same GGUF files at realistic shapes: every engine runs in a fresh
/// process (gguf-probe, or node-llama-cpp's prebuilt binaries through tools/bench/node), so load time and
/// peak RSS are each process's own. Random weights; prompts are token ids; greedy decode.
/// </summary>
internal static class GgufPeersBenchCommand
{
    private sealed record Shape(string Name, string Architecture, int Hidden, int Layers, int Heads, int KvHeads, int Intermediate, int Vocab);

    private static readonly Shape[] Shapes =
    [
        new("smollm2-135m", "llama", 576, 30, 9, 3, 1536, 49152),
        new("qwen2.5-0.5b", "qwen2", 896, 24, 14, 2, 4864, 151936),
    ];

    private sealed record Row(string Shape, string Format, double FileMb, int Threads, PeerProbe Ours, PeerProbe? Node, PeerProbe? LlamaSharp);

    public static Command Create()
    {
        var shapes = new Option<string>("--shapes") { Description = $"comma-separated shapes: {string.Join(", ", Shapes.Select(s => s.Name))}", DefaultValueFactory = _ => string.Join(",", Shapes.Select(s => s.Name)) };
        var formats = new Option<string>("--formats") { Description = "comma-separated GGUF matrix types (f32, f16, bf16, q8_0, q4_0, q5_0, q5_1, q4_k, q5_k, q6_k; K-quants fall back on 576/896-wide rows)", DefaultValueFactory = _ => "f32,q8_0,q4_0" };
        var threads = new Option<string>("--threads", "-t") { Description = "comma-separated thread counts", DefaultValueFactory = _ => "1,2" };
        var prompt = new Option<int>("--prompt-tokens") { Description = "prompt length", DefaultValueFactory = _ => 128 };
        var decode = new Option<int>("--decode-tokens") { Description = "greedy tokens to decode", DefaultValueFactory = _ => 64 };
        var verify = new Option<int>("--verify-tokens") { Description = "positions of a verification pass each engine times against a decode step (0: none)", DefaultValueFactory = _ => 5 };
        var runs = new Option<int>("--runs") { Description = "measured runs per engine after a warm-up (best kept)", DefaultValueFactory = _ => 3 };
        var peers = new Option<string>("--peers") { Description = "node (node-llama-cpp's prebuilt llama.cpp), llamasharp, or both", DefaultValueFactory = _ => "node,llamasharp" };
        var output = new Option<string>("--out") { Description = "JSON report path", DefaultValueFactory = _ => "reports/bench-gguf-peers.json" };
        var command = new Command("gguf-peers", "load time, peak RSS, prompt and decode tokens/s on GGUF files at realistic shapes: ours vs llama.cpp")
        {
            shapes, formats, threads, prompt, decode, verify, runs, peers, output,
        };
        command.SetAction(r => Run(
            r.GetValue(shapes)!.Split(',').Select(n => Shapes.FirstOrDefault(s => s.Name == n.Trim()) ?? throw new ArgumentException($"--shapes: unknown shape '{n}'")).ToArray(),
            r.GetValue(formats)!.Split(',').Select(f => f.Trim()).ToArray(), CommaList.Ints(r.GetValue(threads)!),
            r.GetValue(prompt), r.GetValue(decode), r.GetValue(verify), r.GetValue(runs), r.GetValue(peers)!.Split(','), r.GetValue(output)!));
        return command;
    }

    private static int Run(Shape[] shapes, string[] formats, int[] threads, int promptTokens, int decodeTokens, int verifyTokens, int runs, string[] peers,
        string output)
    {
        string root = Path.Combine(Path.GetTempPath(), "dspec-gguf-peers-" + Guid.NewGuid().ToString("N"));
        string script = Path.GetFullPath("tools/bench/node/llamacpp-bench.mjs");
        var skipped = new List<string>();
        bool node = peers.Contains("node") && NodeReady(script, skipped), llamaSharp = peers.Contains("llamasharp");
        var rows = new List<Row>();
        string loadAtStart = PeersBenchCommand.LoadAverage();
        try
        {
            foreach (var shape in shapes)
            {
                string dir = Path.Combine(root, shape.Name);
                var config = RandomModel.ConfigFor(shape.Architecture, shape.Hidden, shape.Layers, shape.Heads, shape.KvHeads, shape.Intermediate, shape.Vocab,
                    context: promptTokens + Math.Max(decodeTokens, verifyTokens) + 8, tied: true);
                AnsiConsole.MarkupLine($"[grey]{shape.Name}: writing random weights[/]");
                RandomModel.Create(dir, config, seed: 1);
                var prompt = Enumerable.Range(0, promptTokens).Select(i => (i * 7919 + 13) % shape.Vocab).ToArray();
                string ids = string.Join(',', prompt);
                foreach (string format in formats)
                {
                    string gguf = Path.Combine(root, $"{shape.Name}-{format}.gguf");
                    GgufExporter.Build(dir, ParseType(format)).Save(gguf);
                    double mb = new FileInfo(gguf).Length / 1e6;
                    foreach (int t in threads)
                    {
                        AnsiConsole.MarkupLine($"[grey]{shape.Name} {format} ({mb:F0} MB), {t} thread(s)[/]");
                        string[] common = ["--model", gguf, "--threads", $"{t}", "--prompt", ids, "--decode", $"{decodeTokens}", "--runs", $"{runs}", "--verify", $"{verifyTokens}"];
                        var ours = Probe(Self(["gguf-probe", .. common]));
                        PeerProbe? viaNode = node ? TryProbe(() => PeerProbe.Run("node", [script, .. common]), $"node-llama-cpp on {shape.Name} {format}", skipped) : null;
                        PeerProbe? viaSharp = llamaSharp ? TryProbe(() => Probe(Self(["gguf-probe", .. common, "--engine", "llamasharp"])), $"LLamaSharp on {shape.Name} {format}", skipped) : null;
                        rows.Add(new Row(shape.Name, format, mb, t, ours, viaNode, viaSharp));
                    }
                    File.Delete(gguf);
                }
            }
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
        Print(rows, promptTokens, decodeTokens, verifyTokens);
        Write(output, rows, shapes, promptTokens, decodeTokens, verifyTokens, runs, loadAtStart, skipped);
        foreach (string reason in skipped) AnsiConsole.MarkupLine($"[yellow]skipped:[/] {Markup.Escape(reason)}");
        return 0;
    }

    // K-quants too: the exporter stores the 576- and 896-wide rows of these shapes as llama.cpp's quantizer does (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0).
    private static GgmlType ParseType(string format) =>
        GgmlTypes.ParseName(format) ?? throw new ArgumentException($"--formats: '{format}' is not one of f32, f16, bf16, q8_0, q4_0, q5_0, q5_1, q4_k, q5_k, q6_k");

    // This bench's own executable, as a child process.
    private static (string Program, string[] Arguments) Self(string[] arguments)
    {
        string host = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(host) == "dotnet"
            ? (host, [System.Reflection.Assembly.GetEntryAssembly()!.Location, .. arguments])
            : (host, arguments);
    }

    private static PeerProbe Probe((string Program, string[] Arguments) command) => PeerProbe.Run(command.Program, command.Arguments);

    private static PeerProbe? TryProbe(Func<PeerProbe> probe, string what, List<string> skipped)
    {
        try
        {
            return probe();
        }
        // A peer that fails (missing native library, refused file) is reported, not fatal.
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or JsonException)
        {
            skipped.Add($"{what}: {e.Message}");
            return null;
        }
    }

    private static bool NodeReady(string script, List<string> skipped)
    {
        if (File.Exists(Path.Combine(Path.GetDirectoryName(script)!, "node_modules", "node-llama-cpp", "package.json"))) return true;
        skipped.Add("node-llama-cpp: not installed; run `npm install` in tools/bench/node (npm 11's `npm ci` rejects the lockfile: it lacks other platforms' optional packages)");
        return false;
    }

    private static int Agree(PeerProbe a, PeerProbe? b) => b is null ? 0 : a.Tokens.Zip(b.Tokens).TakeWhile(p => p.First == p.Second).Count();

    private static void Print(List<Row> rows, int promptTokens, int decodeTokens, int verifyTokens)
    {
        var table = new Table().Title($"GGUF files, {promptTokens}-token prompt, {decodeTokens} greedy tokens: ours vs llama.cpp (node-llama-cpp / LLamaSharp); ratio = ours / stronger");
        foreach (var column in new[] { "shape", "format", "MB", "threads", "load s", "peak RSS MB", "prompt tok/s", "ratio", "decode tok/s", "ratio", $"verify {verifyTokens} / step", "greedy agree" })
            table.AddColumn(column);
        foreach (var r in rows)
        {
            string Trio(Func<PeerProbe, double> f, string format) =>
                $"{f(r.Ours).ToString(format)} / {(r.Node is null ? "-" : f(r.Node).ToString(format))} / {(r.LlamaSharp is null ? "-" : f(r.LlamaSharp).ToString(format))}";
            table.AddRow(r.Shape, r.Format, $"{r.FileMb:F0}", $"{r.Threads}", Trio(p => p.LoadSeconds, "F2"), Trio(p => p.PeakRssMb, "F0"),
                Trio(p => p.PromptTokensPerSecond, "F0"), Ratio(r, p => p.PromptTokensPerSecond), Trio(p => p.DecodeTokensPerSecond, "F1"),
                Ratio(r, p => p.DecodeTokensPerSecond), Trio(p => p.VerifyOverStep ?? double.NaN, "F2"), $"{Agree(r.Ours, r.Node)}/{Agree(r.Ours, r.LlamaSharp)} of {decodeTokens}");
        }
        AnsiConsole.Write(table);
    }

    private static double? Stronger(Row r, Func<PeerProbe, double> f) =>
        new[] { r.Node, r.LlamaSharp }.Where(p => p is not null).Select(p => (double?)f(p!)).Max();

    private static string Ratio(Row r, Func<PeerProbe, double> f) => Stronger(r, f) is double s ? $"{f(r.Ours) / s:F2}" : "-";

    private static void Write(string output, List<Row> rows, Shape[] shapes, int promptTokens, int decodeTokens, int verifyTokens, int runs, string loadAtStart,
        List<string> skipped)
    {
        var report = new Dictionary<string, object?>
        {
            ["machine"] = new Dictionary<string, object> { ["cores"] = Environment.ProcessorCount, ["load_average_at_start"] = loadAtStart, ["load_average_at_end"] = PeersBenchCommand.LoadAverage() },
            ["protocol"] = $"each engine in a fresh process loads the file, then a warm-up and the best of {runs} runs of a {promptTokens}-token prompt pass and {decodeTokens} greedy decode steps; then one decode step against one {verifyTokens}-position pass with logits at every position (a speculative round's verification), alternated, medians of 20; random weights, prompts are token ids",
            ["shapes"] = shapes,
            ["rows"] = rows.Select(r => new Dictionary<string, object?>
            {
                ["shape"] = r.Shape, ["format"] = r.Format, ["file_mb"] = Math.Round(r.FileMb, 1), ["threads"] = r.Threads,
                ["ours"] = r.Ours with { Tokens = [] }, ["node_llama_cpp"] = r.Node is null ? null : r.Node with { Tokens = [] },
                ["llamasharp"] = r.LlamaSharp is null ? null : r.LlamaSharp with { Tokens = [] },
                ["prompt_ratio_vs_stronger"] = Stronger(r, p => p.PromptTokensPerSecond) is double sp ? Math.Round(r.Ours.PromptTokensPerSecond / sp, 3) : null,
                ["decode_ratio_vs_stronger"] = Stronger(r, p => p.DecodeTokensPerSecond) is double sd ? Math.Round(r.Ours.DecodeTokensPerSecond / sd, 3) : null,
                ["greedy_agree_node"] = Agree(r.Ours, r.Node), ["greedy_agree_llamasharp"] = Agree(r.Ours, r.LlamaSharp),
            }).ToList(),
            ["skipped"] = skipped,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        DistillSpec.IO.AtomicFile.WriteAllText(output, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        AnsiConsole.MarkupLine($"report: [blue]{Markup.Escape(output)}[/]");
    }
}
