namespace DistillSpec.Models.Architectures;

/// <summary>Qwen2 and Qwen2.5: Llama's block with biases on q, k and v (never on o), and rotate-half RoPE in GGUF too.</summary>
internal sealed class Qwen2 : LlamaFamily
{
    public override IReadOnlyList<string> HfClasses { get; } = ["Qwen2ForCausalLM"];

    public override string GgufName => "qwen2";

    protected override bool AlwaysQkvBias => true;

    public override bool OutputBiasWithAttentionBias => false;
}
