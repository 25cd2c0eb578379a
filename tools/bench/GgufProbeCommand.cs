using System.CommandLine;
using System.Diagnostics;
using DistillSpec.Backends;
using DistillSpec.Models;

namespace DistillSpec.Bench;

/// <summary>Our side of gguf-peers, run in a fresh process so that its load time and peak RSS are its own.</summary>
internal static class GgufProbeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "GGUF file or model directory", Required = true };
        var threads = new Option<int>("--threads") { Description = "CPU threads", DefaultValueFactory = _ => 1 };
        var prompt = new Option<string>("--prompt") { Description = "comma-separated prompt token ids", Required = true };
        var decode = new Option<int>("--decode") { Description = "greedy tokens to decode", DefaultValueFactory = _ => 64 };
        var runs = new Option<int>("--runs") { Description = "measured runs after a warm-up (best is kept)", DefaultValueFactory = _ => 3 };
        var engine = new Option<string>("--engine") { Description = "ours, or llamasharp (llama.cpp in-process through LLamaSharp)", DefaultValueFactory = _ => "ours" };
        engine.AcceptOnlyFromAmong("ours", "llamasharp");
        var command = new Command("gguf-probe", "load a model, run the peers protocol, print one JSON record (used by gguf-peers)")
        {
            model, threads, prompt, decode, runs, engine,
        };
        command.Hidden = true;
        command.SetAction(r =>
        {
            int[] ids = CommaList.Ints(r.GetValue(prompt)!);
            int decoded = r.GetValue(decode);
            long start = Stopwatch.GetTimestamp();
            if (r.GetValue(engine) == "llamasharp")
            {
                LlamaCppModel.QuietLogs();
                using var llama = new LlamaCppModel(r.GetValue(model)!, r.GetValue(threads), ids.Length + decoded + 8, ids.Length);
                double load = Stopwatch.GetElapsedTime(start).TotalSeconds;
                var (p, d, t) = EndToEndPeers.Measure(new EndToEndPeers.LlamaCpp(llama), ids, decoded, r.GetValue(runs));
                Console.WriteLine(new PeerProbe("llama.cpp (LLamaSharp 0.30.0)", null, load, p, d, PeerProbe.PeakRssOfThisProcess(), t).ToJson());
                return 0;
            }
            using var backend = new SimdBackend(r.GetValue(threads));
            using var loaded = LanguageModel.Load(r.GetValue(model)!, backend);
            using var cache = loaded.Transformer.CreateCache(ids.Length + decoded + 8);
            double loadSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var (promptTps, decodeTps, tokens) = EndToEndPeers.Measure(new EndToEndPeers.Ours(loaded.Transformer, cache), ids, decoded, r.GetValue(runs));
            string formats = string.Join("+", loaded.Transformer.MatrixFormats);
            Console.WriteLine(new PeerProbe($"ours ({formats})", $"int8 dot products: {InterleavedGemm.Describe()}", loadSeconds, promptTps, decodeTps, PeerProbe.PeakRssOfThisProcess(), tokens).ToJson());
            return 0;
        });
        return command;
    }
}
