using System.CommandLine;
using DistillSpec.Speculative;

namespace DistillSpec.Cli;

/// <summary>llama.cpp-style options naming the draft model and how it drafts, shared by speculate and bench-sd.</summary>
internal sealed class DraftOptions
{
    public Option<string> Draft { get; } = new("--model-draft", "-md") { Description = "draft model directory or GGUF file; must share the target's vocabulary", Required = true };
    public Option<int> DraftMax { get; } = new("--draft-max") { Description = "gamma: tokens drafted per round (the ceiling with --adaptive or --draft-p-min)", DefaultValueFactory = _ => 4 };
    public Option<float> DraftPMin { get; } = new("--draft-p-min") { Description = "stop drafting when the draft's top probability falls below this; 0 = off", DefaultValueFactory = _ => 0f };
    public Option<bool> Adaptive { get; } = new("--adaptive") { Description = "grow gamma after fully accepted rounds, shrink it after a rejected first draft" };
    public Option<string> Device { get; } = CommonOptions.DeviceOption("--device-draft", "the draft's device (the usual pairing: target on the GPU, draft on the CPU)", "cpu");
    public Option<bool> IgnoreEos { get; } = new("--ignore-eos") { Description = "keep generating past end-of-sequence tokens" };
    public Option<string> LenienceFunction { get; } = new("--lenience-fn")
    {
        Description = $"lenience function f of the lossy test u < f(p, eps)/q: lin = p/eps, sq = p/eps^2, exp = p^eps ({LenienceFunctionNames.Choices})",
        DefaultValueFactory = _ => "lin",
    };
    public Option<string?> WeightFormat { get; } = new("--weight-format-draft") { Description = $"the draft's weight storage: {Backends.WeightFormats.Expected} (default: the target's --weight-format); losslessness does not depend on it" };

    public void AddTo(Command command, bool withDraftMax = true)
    {
        command.Options.Add(Draft);
        if (withDraftMax)
        {
            command.Options.Add(DraftMax);
            CommonOptions.Check(DraftMax, g => g is >= 1 and <= SpeculativeOptions.MaxDraft, $"--draft-max must be in 1..{SpeculativeOptions.MaxDraft}");
        }
        command.Options.Add(DraftPMin);
        command.Options.Add(Adaptive);
        command.Options.Add(IgnoreEos);
        command.Options.Add(Device);
        command.Options.Add(WeightFormat);
        command.Options.Add(LenienceFunction);
        CommonOptions.Check(LenienceFunction, LenienceFunctionNames.IsName, $"--lenience-fn must be one of {LenienceFunctionNames.Choices}");
        CommonOptions.Check(WeightFormat, f => f is null || Backends.WeightFormats.Names.Contains(f), $"--weight-format-draft must be {Backends.WeightFormats.Expected}");
        CommonOptions.Check(DraftPMin, p => p >= 0 && p < 1, "--draft-p-min must be in [0, 1)");
    }

    public SpeculativeOptions Speculative(ParseResult r, int? draftMax = null, float lenience = 1f) => new SpeculativeOptions
    {
        DraftMax = draftMax ?? r.GetValue(DraftMax),
        DraftPMin = r.GetValue(DraftPMin),
        Adaptive = r.GetValue(Adaptive),
        Lenience = lenience,
        LenienceFunction = LenienceFunctionNames.Parse(r.GetValue(LenienceFunction)!, "--lenience-fn"),
    }.Validate();

    public Backends.WeightFormat Format(ParseResult r, Backends.WeightFormat target) =>
        r.GetValue(WeightFormat) is string f ? Backends.WeightFormats.Parse(f) : target;
}
