using System.CommandLine;

namespace DistillSpec.Cli.Serve;

/// <summary>
/// dspec serve: an OpenAI-compatible HTTP server (llama-server's options), decoding speculatively
/// when a draft is given. Runs until Ctrl-C.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var drafting = new DraftOptions();
        var draft = new Option<string?>("--model-draft", "-md") { Description = "draft model directory or GGUF file: decode every request speculatively (same output as the target alone)" };
        var host = new Option<string>("--host") { Description = "address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "port to listen on (0: any free port)", DefaultValueFactory = _ => 8080 };
        var parallel = new Option<int>("--parallel", "-np") { Description = "model copies loaded, each generating one request at a time", DefaultValueFactory = _ => 1 };
        var queue = new Option<int>("--queue") { Description = "requests that may wait for a copy; more are answered 429", DefaultValueFactory = _ => 16 };
        var ctx = new Option<int>("--ctx-size", "-c") { Description = "positions a request may use, prompt plus completion (0: the model's context length)", DefaultValueFactory = _ => 0 };
        var draftMin = new Option<int>("--draft-min") { Description = "drafts every round makes before --draft-p-min may stop it", DefaultValueFactory = _ => 0 };

        var command = new Command("serve", "OpenAI-compatible server: /v1/chat/completions, /v1/completions, /v1/models, /health, /metrics, and a page at / that shows the drafts");
        foreach (var option in new Option[] { common.Model, draft, host, port, parallel, queue, ctx, drafting.DraftMax, draftMin, drafting.DraftPMin,
                     drafting.Adaptive, common.Threads, common.WeightFormat, common.Device, drafting.Device })
            command.Options.Add(option);
        CommonOptions.Check(port, p => p is >= 0 and <= 65535, "--port must be in [0, 65535]");
        CommonOptions.Check(parallel, n => n >= 1, "--parallel must be at least 1");
        CommonOptions.Check(queue, n => n >= 0, "--queue must be >= 0");
        CommonOptions.Check(ctx, n => n >= 0, "--ctx-size must be >= 0 (0 = the model's)");
        CommonOptions.Check(drafting.DraftMax, g => g >= 1, "--draft-max must be at least 1");
        CommonOptions.Check(draftMin, g => g >= 0, "--draft-min must be >= 0");
        CommonOptions.Check(drafting.DraftPMin, p => p >= 0 && p < 1, "--draft-p-min must be in [0, 1)");
        CommonOptions.Check(common.Threads, n => n >= 1, "--threads must be at least 1");

        command.SetAction(r => CliErrors.Guard(() =>
        {
            var options = new ServerOptions
            {
                Host = r.GetValue(host)!,
                Port = r.GetValue(port),
                Queue = r.GetValue(queue),
                ContextSize = r.GetValue(ctx),
                Speculation = drafting.Speculative(r) with { DraftMin = r.GetValue(draftMin) },
            };
            if (options.Speculation.DraftMin > options.Speculation.DraftMax) throw new ArgumentException("--draft-min must not exceed --draft-max");
            var slots = SlotLoader.Load(r.GetValue(common.Model)!, r.GetValue(draft), r.GetValue(parallel), options.Speculation,
                new ModelOptions { Device = r.GetValue(common.Device)!, Threads = r.GetValue(common.Threads), WeightFormat = common.Format(r) },
                r.GetValue(drafting.Device)!);
            try
            {
                return Run(slots, options).GetAwaiter().GetResult();
            }
            finally
            {
                foreach (var slot in slots) slot.Dispose();
            }
        }));
        return command;
    }

    private static async Task<int> Run(IReadOnlyList<ModelSlot> slots, ServerOptions options)
    {
        await using var host = await ServeHost.StartAsync(slots, options, line => Console.Error.WriteLine(line));
        Console.Error.WriteLine($"serving {slots[0].Target.Path}{(slots[0].Speculative ? $" with draft {slots[0].DraftPath}" : "")} on {host.Address} " +
                                $"({slots.Count} slot(s), queue {options.Queue}); open {host.Address} for the page, Ctrl-C to stop");
        await host.WaitForShutdownAsync();
        return 0;
    }
}
