using System.Text.Json;

namespace DistillSpec.Bench;

/// <summary>
/// One engine on one GGUF file in a fresh process: load time, the bench's prompt/decode protocol
/// (EndToEndPeers.Measure), the greedy tokens and the process's peak RSS. Ours is `dspec-bench gguf-probe`,
/// llama.cpp's is tools/bench/node/llamacpp-bench.mjs; both print this record as JSON.
/// StepMs and VerifyMs: one decode step and one pass over VerifyTokens positions (logits for each) after the prompt,
/// medians (EndToEndPeers.VerifyCost); 0 where not measured.
/// </summary>
internal sealed record PeerProbe(string Engine, string? CpuVariant, double LoadSeconds, double PromptTokensPerSecond,
    double DecodeTokensPerSecond, double PeakRssMb, int[] Tokens, int VerifyTokens = 0, double StepMs = 0, double VerifyMs = 0)
{
    /// <summary>A verification pass over a decode step: what each speculative round pays; null where not measured.</summary>
    public double? VerifyOverStep => StepMs > 0 ? VerifyMs / StepMs : null;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Runs program with arguments and reads the record it prints last on stdout.</summary>
    public static PeerProbe Run(string program, IEnumerable<string> arguments)
    {
        string stdout = ChildProcess.Run(program, arguments).Stdout;
        string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        if (!last.StartsWith('{')) throw new InvalidOperationException($"{program} printed no JSON record: {stdout.Trim()}");
        return JsonSerializer.Deserialize<PeerProbe>(last, Json) ?? throw new InvalidOperationException($"{program} printed no result");
    }

    /// <summary>This process's peak resident set (VmHWM), in MB; NaN where /proc is absent.</summary>
    public static double PeakRssOfThisProcess()
    {
        if (!File.Exists("/proc/self/status")) return double.NaN;
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? double.NaN : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
    }
}
