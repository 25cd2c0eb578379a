using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Spectre.Console;

namespace DistillSpec.Cli.Serve;

/// <summary>
/// Load test of dspec serve: starts the server on loopback, once with the draft (speculative
/// decoding on) and once without, and runs N streaming clients for T seconds against each. Every
/// reply is checked against the greedy reply to the same prompt sent alone, so a lost, cut or mixed
/// response counts as an error. Prints a table and writes a JSON report.
/// </summary>
internal static class BenchServeCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var drafting = new DraftOptions();
        var clients = new Option<int>("--clients") { Description = "concurrent clients", DefaultValueFactory = _ => 16 };
        var duration = new Option<double>("--duration") { Description = "seconds each phase sends new requests", DefaultValueFactory = _ => 60 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "max_tokens of every request", DefaultValueFactory = _ => 32 };
        var prompts = new Option<string>("--prompts") { Description = "prompt file: one per line, or JSONL with a \"prompt\" field", DefaultValueFactory = _ => "data/prompts/code.jsonl" };
        var promptCount = new Option<int>("--prompt-count") { Description = "prompts taken from the file (each gets a reference reply first)", DefaultValueFactory = _ => 8 };
        var output = new Option<string>("--out") { Description = "JSON report path", DefaultValueFactory = _ => "reports/bench-serve.json" };
        var command = new Command("bench-serve", "load test of dspec serve on loopback: N clients for T seconds, speculative decoding on and off");
        foreach (var option in new Option[] { common.Model, drafting.Draft, drafting.DraftMax, clients, duration, maxTokens, prompts, promptCount, output,
                     common.Threads, common.WeightFormat, common.Device, drafting.Device })
            command.Options.Add(option);
        CommonOptions.Check(clients, n => n is >= 1 and <= 1024, "--clients must be in [1, 1024]");
        CommonOptions.Check(duration, s => s > 0 && s <= 3600, "--duration must be in (0, 3600] seconds");
        CommonOptions.Check(maxTokens, n => n >= 1, "--max-tokens must be at least 1");
        CommonOptions.Check(promptCount, n => n >= 1, "--prompt-count must be at least 1");
        CommonOptions.Check(drafting.DraftMax, g => g >= 1, "--draft-max must be at least 1");
        CommonOptions.Check(common.Threads, n => n >= 1, "--threads must be at least 1");
        command.SetAction(r => CliErrors.Guard(() =>
        {
            var texts = PromptFile.Read(r.GetValue(prompts)!).Take(r.GetValue(promptCount)).ToList();
            var load = new LoadShape(r.GetValue(clients), TimeSpan.FromSeconds(r.GetValue(duration)), r.GetValue(maxTokens));
            var model = new ModelOptions { Device = r.GetValue(common.Device)!, Threads = r.GetValue(common.Threads), WeightFormat = common.Format(r) };
            var speculation = new Speculative.SpeculativeOptions { DraftMax = r.GetValue(drafting.DraftMax) };
            var phases = new List<PhaseReport>();
            foreach (string? draft in new[] { r.GetValue(drafting.Draft), null })
            {
                var slots = SlotLoader.Load(r.GetValue(common.Model)!, draft, 1, speculation, model, r.GetValue(drafting.Device)!);
                try
                {
                    phases.Add(RunPhase(slots, texts, load, draft is not null).GetAwaiter().GetResult());
                }
                finally
                {
                    foreach (var slot in slots) slot.Dispose();
                }
            }
            Print(phases, load);
            var report = new { target = r.GetValue(common.Model), draft = r.GetValue(drafting.Draft), draft_max = speculation.DraftMax, clients = load.Clients,
                duration_s = load.Duration.TotalSeconds, max_tokens = load.MaxTokens, prompts = texts.Count, machine = Environment.ProcessorCount + " cores", phases };
            IO.AtomicFile.WriteAllText(r.GetValue(output)!, JsonSerializer.Serialize(report,
                new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
            Console.Error.WriteLine($"wrote {r.GetValue(output)}");
            return phases.All(p => p.Errors == 0) ? 0 : 1;
        }));
        return command;
    }

    private sealed record LoadShape(int Clients, TimeSpan Duration, int MaxTokens);

    private static async Task<PhaseReport> RunPhase(IReadOnlyList<ModelSlot> slots, List<string> prompts, LoadShape load, bool speculative)
    {
        // Queue room for every client: the bench measures queued service, not refusals.
        await using var host = await ServeHost.StartAsync(slots, new ServerOptions { Port = 0, Queue = load.Clients });
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = load.Clients + 1 }) { Timeout = Timeout.InfiniteTimeSpan };
        var client = new LoadClient(http, host.Address, prompts, load.MaxTokens);
        Console.Error.WriteLine($"{(speculative ? "speculative decoding on" : "speculative decoding off")}: reference replies for {prompts.Count} prompts");
        var references = await client.References(CancellationToken.None);

        Console.Error.WriteLine($"{load.Clients} clients for {load.Duration.TotalSeconds:F0} s");
        // Clients start no request after the deadline; one still running a minute later is cut off and counted as an error.
        using var hardStop = new CancellationTokenSource(load.Duration + TimeSpan.FromMinutes(1));
        var clock = Stopwatch.StartNew();
        var runs = Enumerable.Range(0, load.Clients).Select(c => Task.Run(async () =>
        {
            var results = new List<LoadResult>();
            for (int i = 0; clock.Elapsed < load.Duration; i++)
                results.Add(await client.Stream((c + i) % prompts.Count, hardStop.Token));
            return results;
        })).ToArray();
        var all = (await Task.WhenAll(runs)).SelectMany(r => r).ToList();
        var elapsed = clock.Elapsed;
        return PhaseReport.From(speculative, all, references, elapsed, host.Metrics.Render(host.Scheduler));
    }

    private static void Print(List<PhaseReport> phases, LoadShape load)
    {
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 160;  // no terminal to size the table by
        var table = new Table().AddColumns("", "requests", "req/s", "tokens/s", "TTFT p50 ms", "TTFT p99 ms", "latency p50 ms", "latency p99 ms", "errors", "accepted/drafted");
        foreach (var p in phases)
            table.AddRow(p.Speculative ? "SD on" : "SD off", $"{p.Requests}", $"{p.RequestsPerSecond:F2}", $"{p.TokensPerSecond:F1}",
                $"{p.TtftP50Ms:F0}", $"{p.TtftP99Ms:F0}", $"{p.LatencyP50Ms:F0}", $"{p.LatencyP99Ms:F0}", $"{p.Errors}",
                p.Speculative ? $"{p.AcceptedDrafts}/{p.Drafted} ({p.AcceptanceRate:F2})" : "-");
        table.Caption = new TableTitle($"{load.Clients} clients, {load.Duration.TotalSeconds:F0} s each, max_tokens {load.MaxTokens}");
        AnsiConsole.Write(table);
        foreach (var p in phases)
            foreach (string e in p.ErrorSamples) Console.Error.WriteLine($"{(p.Speculative ? "SD on" : "SD off")} error: {e}");
    }
}
