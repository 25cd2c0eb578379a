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
        var verify = new Option<int>("--verify") { Description = "positions of a verification pass to time against a decode step (0: none)", DefaultValueFactory = _ => 0 };
        var engine = new Option<string>("--engine") { Description = "ours, or llamasharp (llama.cpp in-process through LLamaSharp)", DefaultValueFactory = _ => "ours" };
        engine.AcceptOnlyFromAmong("ours", "llamasharp");
        var command = new Command("gguf-probe", "load a model, run the peers protocol, print one JSON record (used by gguf-peers)")
        {
            model, threads, prompt, decode, runs, verify, engine,
        };
        command.Hidden = true;
        command.SetAction(r =>
        {
            int[] ids = CommaList.Ints(r.GetValue(prompt)!);
            int decoded = r.GetValue(decode), verifyTokens = r.GetValue(verify);
            long start = Stopwatch.GetTimestamp();
            if (r.GetValue(engine) == "llamasharp")
            {
                LlamaCppModel.QuietLogs();
                using var llama = new LlamaCppModel(r.GetValue(model)!, r.GetValue(threads), ids.Length + Math.Max(decoded, verifyTokens) + 8, ids.Length);
                double load = Stopwatch.GetElapsedTime(start).TotalSeconds;
                var peer = new EndToEndPeers.LlamaCpp(llama);
                var (p, d, t) = EndToEndPeers.Measure(peer, ids, decoded, r.GetValue(runs));
                var (stepMs, verifyMs) = verifyTokens > 0 ? EndToEndPeers.VerifyCost(peer, ids, verifyTokens) : (0, 0);
                Console.WriteLine(new PeerProbe("llama.cpp (LLamaSharp 0.30.0)", null, load, p, d, PeerProbe.PeakRssOfThisProcess(), t, verifyTokens, stepMs, verifyMs).ToJson());
                return 0;
            }
            using var backend = new SimdBackend(r.GetValue(threads));
            using var loaded = LanguageModel.Load(r.GetValue(model)!, backend);
            using var cache = loaded.Transformer.CreateCache(ids.Length + Math.Max(decoded, verifyTokens) + 8);
            double loadSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var ours = new EndToEndPeers.Ours(loaded.Transformer, cache);
            var (promptTps, decodeTps, tokens) = EndToEndPeers.Measure(ours, ids, decoded, r.GetValue(runs));
            var (step, verified) = verifyTokens > 0 ? EndToEndPeers.VerifyCost(ours, ids, verifyTokens) : (0, 0);
            string formats = string.Join("+", loaded.Transformer.MatrixFormats);
            Console.WriteLine(new PeerProbe($"ours ({formats})", $"int8 dot products: {InterleavedGemm.Describe()}", loadSeconds, promptTps, decodeTps,
                PeerProbe.PeakRssOfThisProcess(), tokens, verifyTokens, step, verified).ToJson());
            return 0;
        });
        return command;
    }
}
