using System.CommandLine;
using System.Text.Json;
using DistillSpec.IO;
using DistillSpec.Models;
using DistillSpec.Training;
using Spectre.Console;

namespace DistillSpec.Bench;

/// <summary>
/// The training GEMM (engine/Training/Gemm.cs) against OpenBLAS's cblas_sgemm on every product of
/// every linear layer of a training step, forward and backward, same memory layouts and threads;
/// then a whole training step of the target shape: tokens/s and achieved GFLOP/s.
/// </summary>
internal static class TrainGemmBenchCommand
{
    private sealed record Shape(string Name, int Hidden, int KvDim, int Intermediate, int Vocab);

    private sealed record Settings(int[] Threads, int[] Tokens, Shape Target, Shape? Draft, int Layers, int Batch, int SeqLen, string Output);

    public static Command Create()
    {
        var threads = new Option<string>("--threads", "-t") { Description = "comma-separated thread counts", DefaultValueFactory = _ => "1,2" };
        var tokens = new Option<string>("--tokens") { Description = "comma-separated tokens per step (the GEMMs' M, or K for weight gradients)", DefaultValueFactory = _ => "1024,2048" };
        var target = new Option<string>("--target") { Description = "target shape: hidden,kv-dim,intermediate,vocab", DefaultValueFactory = _ => "512,256,1536,8192" };
        var draft = new Option<string>("--draft") { Description = "draft shape: hidden,kv-dim,intermediate,vocab (\"none\" skips it)", DefaultValueFactory = _ => "128,64,384,8192" };
        var layers = new Option<int>("--layers") { Description = "target layers for the training step", DefaultValueFactory = _ => 8 };
        var batch = new Option<int>("--batch") { Description = "training step batch", DefaultValueFactory = _ => 8 };
        var seqLen = new Option<int>("--seq-len") { Description = "training step sequence length (0 skips the step)", DefaultValueFactory = _ => 256 };
        var output = new Option<string>("--out") { Description = "JSON report path (a .txt with the tables is written beside it)", DefaultValueFactory = _ => "reports/bench-train-gemm.json" };
        var command = new Command("train-gemm", "training GEMMs (forward, dX, dW of every linear) vs OpenBLAS, and training step tokens/s")
        {
            threads, tokens, target, draft, layers, batch, seqLen, output,
        };
        command.SetAction(r =>
        {
            string draftText = r.GetValue(draft)!;
            return Run(new Settings(CommaList.Ints(r.GetValue(threads)!), CommaList.Ints(r.GetValue(tokens)!), ParseShape("target", r.GetValue(target)!),
                draftText == "none" ? null : ParseShape("draft", draftText), r.GetValue(layers), r.GetValue(batch), r.GetValue(seqLen), r.GetValue(output)!));
        });
        return command;
    }


    private static Shape ParseShape(string name, string text)
    {
        int[] v = CommaList.Ints(text);
        if (v.Length != 4 || v.Any(x => x < 1)) throw new ArgumentException($"--{name} expects four positive sizes hidden,kv-dim,intermediate,vocab; got '{text}'");
        return new Shape(name, v[0], v[1], v[2], v[3]);
    }

    private static int Run(Settings s)
    {
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;
        var report = new Dictionary<string, object>
        {
            ["machine"] = new Dictionary<string, object>
            {
                ["cores"] = Environment.ProcessorCount, ["os"] = Environment.OSVersion.ToString(), ["runtime"] = Environment.Version.ToString(),
                ["load_average_at_start"] = PeersBenchCommand.LoadAverage(),
            },
        };
        var tables = new List<Table>();
        var blas = OpenBlas.TryLoad(out string problem);
        if (blas is null)
        {
            AnsiConsole.MarkupLine($"[yellow]skipped GEMM vs OpenBLAS:[/] {Markup.Escape(problem)}");
            report["skipped"] = new[] { $"GEMM vs OpenBLAS: {problem}" };
        }
        else
        {
            List<Shape> shapes = s.Draft is null ? [s.Target] : [s.Target, s.Draft];
            var products = shapes.SelectMany(shape => TrainGemmPeers.Products(shape.Name, shape.Hidden, shape.KvDim, shape.Intermediate, shape.Vocab, s.Tokens)).ToList();
            var results = TrainGemmPeers.Run(blas, s.Threads, products);
            var table = new Table().Title($"Training GEMMs, f32: ours vs OpenBLAS cblas_sgemm, same layouts ({Markup.Escape(blas.Config)})");
            foreach (var column in new[] { "model", "layer", "product", "threads", "M", "N", "K", "ours GFLOP/s", "OpenBLAS GFLOP/s", "ours / OpenBLAS", "max |diff|" })
                table.AddColumn(column);
            foreach (var g in results)
                table.AddRow(g.Product.Model, g.Product.Layer, Markup.Escape(g.Product.Kind), $"{g.Threads}", $"{g.Product.M}", $"{g.Product.N}", $"{g.Product.K}",
                    $"{g.OursGflops:F1}", $"{g.OpenBlasGflops:F1}", $"{g.Ratio:F2}", $"{g.MaxAbsDiff:E1}");
            AnsiConsole.Write(table);
            tables.Add(table);
            var summary = new Table().Title("Summary: total time of all products per model, tokens and threads (GFLOP-weighted)");
            foreach (var column in new[] { "model", "tokens", "threads", "ours GFLOP/s", "OpenBLAS GFLOP/s", "ours / OpenBLAS", "worst product" }) summary.AddColumn(column);
            foreach (var group in results.GroupBy(g => (g.Product.Model, g.Product.Tokens, g.Threads)))
            {
                double flops = group.Sum(g => g.Product.Flops), ours = flops / group.Sum(g => g.OursSeconds) / 1e9, theirs = flops / group.Sum(g => g.OpenBlasSeconds) / 1e9;
                var worst = group.MinBy(g => g.Ratio)!;
                summary.AddRow(group.Key.Model, $"{group.Key.Tokens}", $"{group.Key.Threads}", $"{ours:F1}", $"{theirs:F1}", $"{ours / theirs:F2}",
                    Markup.Escape($"{worst.Ratio:F2} {worst.Product.Layer} {worst.Product.Kind}"));
            }
            AnsiConsole.Write(summary);
            tables.Add(summary);
            report["openblas"] = blas.Config;
            report["gemm"] = results.Select(g => new Dictionary<string, object>
            {
                ["model"] = g.Product.Model, ["layer"] = g.Product.Layer, ["product"] = g.Product.Kind, ["threads"] = g.Threads,
                ["m"] = g.Product.M, ["n"] = g.Product.N, ["k"] = g.Product.K, ["cblas"] = g.Product.CblasFlags,
                ["ours_gflops"] = Math.Round(g.OursGflops, 2), ["openblas_gflops"] = Math.Round(g.OpenBlasGflops, 2),
                ["ratio"] = Math.Round(g.Ratio, 3), ["max_abs_diff"] = g.MaxAbsDiff,
            }).ToList();
        }

        if (s.SeqLen > 0) tables.Add(RunTrainingStep(s, report));

        ((Dictionary<string, object>)report["machine"])["load_average_at_end"] = PeersBenchCommand.LoadAverage();
        string load = $"load average (1, 5, 15 min) at end: {PeersBenchCommand.LoadAverage()} on {Environment.ProcessorCount} cores";
        AnsiConsole.WriteLine(load);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(s.Output))!);
        AtomicFile.WriteAllText(s.Output, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        var text = new StringWriter();
        var plain = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(text) });
        plain.Profile.Width = 200;
        foreach (var table in tables) plain.Write(table);
        AtomicFile.WriteAllText(Path.ChangeExtension(s.Output, ".txt"), text + load + "\n");
        AnsiConsole.MarkupLine($"report: [blue]{Markup.Escape(s.Output)}[/] and [blue]{Markup.Escape(Path.ChangeExtension(s.Output, ".txt"))}[/]");
        return 0;
    }

    // The real trainer's step on a random model of the target shape; FLOPs counted as the trainer's metrics do.
    private static Table RunTrainingStep(Settings s, Dictionary<string, object> report)
    {
        var t = s.Target;
        int heads = t.Hidden / 64, kvHeads = t.KvDim / 64;
        var config = RandomModel.LlamaConfig(t.Hidden, s.Layers, heads, kvHeads, t.Intermediate, t.Vocab, context: s.SeqLen).Validate();
        var weights = Initialization.Random(config, seed: 1);
        double flops = TrainingFlops.TrainingStep(config, s.Batch, s.SeqLen);
        var table = new Table().Title($"Training step (forward, cross-entropy, backward), target {t.Hidden}/{t.KvDim}/{t.Intermediate}/{t.Vocab}, "
            + $"{s.Layers} layers, batch {s.Batch} x {s.SeqLen} tokens, {flops / 1e9:F1} GFLOP a step");
        foreach (var column in new[] { "threads", "step s", "tokens/s", "GFLOP/s" }) table.AddColumn(column);
        var rows = new List<Dictionary<string, object>>();
        foreach (int threads in s.Threads)
        {
            double seconds = TrainingStepTiming.BestSeconds(weights, s.Batch, s.SeqLen, threads);
            double tokensPerSecond = s.Batch * s.SeqLen / seconds;
            table.AddRow($"{threads}", $"{seconds:F3}", $"{tokensPerSecond:F0}", $"{flops / seconds / 1e9:F1}");
            rows.Add(new Dictionary<string, object>
            {
                ["threads"] = threads, ["seconds"] = Math.Round(seconds, 4), ["tokens_per_s"] = Math.Round(tokensPerSecond, 1),
                ["gflops"] = Math.Round(flops / seconds / 1e9, 2),
            });
        }
        AnsiConsole.Write(table);
        report["training_step"] = new Dictionary<string, object>
        {
            ["hidden"] = t.Hidden, ["kv_dim"] = t.KvDim, ["intermediate"] = t.Intermediate, ["vocab"] = t.Vocab, ["layers"] = s.Layers,
            ["heads"] = heads, ["kv_heads"] = kvHeads, ["batch"] = s.Batch, ["seq_len"] = s.SeqLen, ["gflop_per_step"] = Math.Round(flops / 1e9, 3),
            ["flop_count"] = "6 x matmul parameters x tokens + causal attention (TrainingFlops.TrainingStep)", ["results"] = rows,
        };
        return table;
    }
}
