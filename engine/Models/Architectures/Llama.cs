namespace DistillSpec.Models.Architectures;

/// <summary>Llama 2/3, SmolLM and Mistral: llama.cpp converts all of them to its "llama" architecture.</summary>
internal sealed class Llama : LlamaFamily
{
    public override IReadOnlyList<string> HfClasses { get; } = ["LlamaForCausalLM", "MistralForCausalLM"];

    public override string HfModelType(string className) => className == "MistralForCausalLM" ? "mistral" : "llama";

    public override string GgufName => "llama";

    protected override bool GgufInterleavedRope => true;
}
