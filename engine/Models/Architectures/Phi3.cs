namespace DistillSpec.Models.Architectures;

/// <summary>
/// Phi-3 and Phi-3.5-mini: Llama's block with q, k, v fused into qkv_proj and gate, up into
/// gate_up_proj (split on load, so the transformer runs them as three and two matrices).
/// </summary>
internal sealed class Phi3 : LlamaFamily
{
    public override IReadOnlyList<string> HfClasses { get; } = ["Phi3ForCausalLM"];

    public override string GgufName => "phi3";

    protected override bool FusedProjections => true;

    public override ModelConfig ReadHfConfig(ConfigReader json, string className)
    {
        if (json.OptionalFloat("partial_rotary_factor") is float partial && partial != 1f)
            throw json.Error($"field 'partial_rotary_factor' is {partial}; only full rotary embeddings (1.0) are supported");
        if (json.HasObject("rope_scaling"))
            throw json.Error("field 'rope_scaling' is set (LongRoPE); scaled rotary embeddings are not supported");
        var config = base.ReadHfConfig(json, className) with { AttentionBias = false, MlpBias = false };
        // Attention is exact as long as the whole context fits in the sliding window.
        return json.OptionalInt("sliding_window") is int window && window < config.MaxPositions
            ? config with { MaxPositions = window }
            : config;
    }

    public override void WriteHfConfig(ModelConfig c, IDictionary<string, object?> fields)
    {
        base.WriteHfConfig(c, fields);
        fields.Remove("attention_bias");
        fields.Remove("mlp_bias");
    }
}
