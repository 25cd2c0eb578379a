using DistillSpec.Models;

namespace DistillSpec.Tests.Cli;

/// <summary>
/// Bad inputs a careful user or a hostile file brings (issue 16's list and more), each with
/// the outcome it must have. The model is TableModel's: Llama, hidden 32, 2 layers, 4 heads
/// (2 KV), head_dim 8, vocab 257, context 64, tied embeddings.
/// </summary>
internal static class BadInputTable
{
    private static readonly string Gen = G();
    private static readonly string Spec = S();
    private const string Init = "init-random -o {out}";
    private const string Bench = "bench-sd -m {model} -md {draft} --prompts {model}/prompts.txt -n 4 -t 1 -o {out}/bench.json";
    private const string Resume = "train --resume -o {run}";

    public static readonly IReadOnlyList<BadInputCase> Cases =
    [
        // Command lines: every parse or validation error is a usage error with exit code 1.
        new("n not a number", null, G(" -n abc"), Expect.Error, "Cannot parse argument 'abc' for option '--n-predict'"),
        new("n past int", null, G(" -n 99999999999"), Expect.Error, "Cannot parse argument '99999999999'"),
        new("n zero", null, G(" -n 0"), Expect.Error, "--n-predict must be at least 1, got 0"),
        new("n past the context", null, G(" -n 2000000000"), Expect.Error, "prompt plus generation needs 2000000000 positions but the context length is 64"),
        new("n past int with a prompt", null, G(" -n 2147483647 -p ab"), Expect.Error, "needs 2147483648 positions but the context length is 64"),
        new("speculate n past the context", null, S(" -n 2000000000"), Expect.Error, "prompt plus generation needs 2000000000 positions"),
        new("n negative", null, G(" -n -5"), Expect.Error, "--n-predict must be at least 1, got -5"),
        new("temp not a number", null, G(" --temp abc"), Expect.Error, "Cannot parse argument 'abc' for option '--temp'"),
        new("temp negative", null, G(" --temp -1"), Expect.Error, "--temp must be a finite number >= 0"),
        new("temp NaN", null, G(" --temp NaN"), Expect.Error, "--temp must be a finite number >= 0"),
        new("temp infinite", null, G(" --temp Infinity"), Expect.Error, "--temp must be a finite number >= 0"),
        new("temp 1e-45 is greedy", null, G(" --temp 1e-45"), Expect.Success),
        new("temp 1e-30 is greedy", null, G(" --temp 1e-30"), Expect.Success),
        new("temp zero", null, Gen, Expect.Success),
        new("top-k negative", null, G(" --top-k -1"), Expect.Error, "--top-k must be >= 0"),
        new("top-k not a number", null, G(" --top-k x"), Expect.Error, "Cannot parse argument 'x' for option '--top-k'"),
        new("top-p zero", null, G(" --top-p 0"), Expect.Error, "--top-p must be in (0, 1]"),
        new("top-p above one", null, G(" --top-p 1.5"), Expect.Error, "--top-p must be in (0, 1]"),
        new("top-p not a number", null, G(" --top-p abc"), Expect.Error, "Cannot parse argument 'abc' for option '--top-p'"),
        new("threads zero", null, G(" -t 0"), Expect.Error, "--threads must be at least 1"),
        new("threads not a number", null, G(" -t many"), Expect.Error, "Cannot parse argument 'many'"),
        new("seed past int", null, G(" -s 99999999999"), Expect.Error, "Cannot parse argument '99999999999' for option '--seed'"),
        new("weight format unknown", null, G(" --weight-format q3_k"), Expect.Error, "--weight-format must be f32, bf16, q8_0, q4_0, q5_0, q5_1, q4_k, q5_k or q6_k, got q3_k"),
        new("device unknown", null, G(" --device tpu"), Expect.Error, "--device must be one of"),
        new("model option missing", null, "generate -n 3", Expect.Error, "Option '--model' is required"),
        new("unknown option", null, G(" --bogus"), Expect.Error, "Unrecognized command or argument '--bogus'"),
        new("unknown command", null, "frobnicate", Expect.Error, "Unrecognized command or argument 'frobnicate'"),
        new("model directory missing", null, "generate -m {out}/absent -n 3", Expect.Error, "does not exist"),
        new("sampling with check-weights", null, G(" --temp 0.7 --check-weights"), Expect.Success),
        new("draft-max 1000", null, S(" --draft-max 1000"), Expect.Error, "--draft-max must be in 1..64, got 1000"),
        new("draft-max zero", null, S(" --draft-max 0"), Expect.Error, "--draft-max must be in 1..64, got 0"),
        new("draft-max not a number", null, S(" --draft-max lots"), Expect.Error, "Cannot parse argument 'lots' for option '--draft-max'"),
        new("draft-max at the context", null, S(" --draft-max 64"), Expect.Error, "draft-max must be below the context length (64 positions)"),
        new("lenience zero", null, S(" --lenience 0"), Expect.Error, "--lenience must be in (0, 1]"),
        new("lenience above one", null, S(" --lenience 2"), Expect.Error, "--lenience must be in (0, 1]"),
        new("lenience function unknown", null, S(" --lenience-fn cubic"), Expect.Error, "--lenience-fn must be one of lin|sq|exp, got cubic"),
        new("lenience function squared", null, S(" --temp 1 --lenience 0.5 --lenience-fn sq"), Expect.Success),
        new("draft-p-min one", null, S(" --draft-p-min 1"), Expect.Error, "--draft-p-min must be in [0, 1)"),
        new("draft weight format unknown", null, S(" --weight-format-draft f8"), Expect.Error, "--weight-format-draft must be f32, bf16, q8_0, q4_0, q5_0, q5_1, q4_k, q5_k or q6_k"),
        new("draft device unknown", null, S(" --device-draft npu"), Expect.Error, "--device-draft must be one of"),
        new("draft option missing", null, "speculate -m {model} -n 3", Expect.Error, "Option '--model-draft' is required"),
        new("draft directory missing", null, "speculate -m {model} -md {out}/absent -n 3", Expect.Error, "does not exist"),
        new("speculate works", null, S(" --draft-max 4"), Expect.Success),
        new("speculate at temp 1e-45", null, S(" --draft-max 3 --temp 1e-45"), Expect.Success),
        new("bench-sd gamma past 64", d => d.Write("prompts.txt", "hello"), Bench + " --gammas 1,1000", Expect.Error, "--gammas: 1000 is outside 1..64"),
        new("bench-sd gamma range to 2e9", d => d.Write("prompts.txt", "hello"), Bench + " --gammas 1-2000000000", Expect.Error, "--gammas: 2000000000 is outside 1..64"),
        new("bench-sd gammas not numbers", d => d.Write("prompts.txt", "hello"), Bench + " --gammas a,b", Expect.Error, "--gammas: 'a' is not an integer"),
        new("bench-sd temps infinite", d => d.Write("prompts.txt", "hello"), Bench + " --temps 0,Infinity", Expect.Error, "--temps must be finite numbers >= 0"),
        new("bench-sd lenience function exp", d => d.Write("prompts.txt", "hello"), Bench + " --gammas 1 --temps 1 --lenience 0.5 --lenience-fn exp", Expect.Success),
        new("bench-sd prompts missing", null, Bench, Expect.Error, "prompts.txt"),
        new("bench-sd prompts bad JSON", d => d.Write("prompts.txt", "{\"prompt\": "), Bench, Expect.Error, "prompts.txt:1: not valid JSON text"),
        new("bench-sd prompts lone surrogate", d => d.Write("prompts.txt", "{\"prompt\": \"\\ud800\"}"), Bench, Expect.Error, "prompts.txt:1: not valid JSON text"),
        new("bench-sd prompt field missing", d => d.Write("prompts.txt", "{\"text\": \"x\"}"), Bench, Expect.Error, "prompts.txt:1: JSON line has no \"prompt\" string"),
        new("init-random vocab 2^31-1", null, Init + " --vocab 2147483647", Expect.Error, "field 'vocab_size' must be in 1..4194304, got 2147483647"),
        new("init-random heads zero", null, Init + " --heads 0", Expect.Error, "--heads must be at least 1, got 0"),
        new("init-random hidden zero", null, Init + " --hidden 0", Expect.Error, "--hidden must be at least 1"),
        new("init-random layers negative", null, Init + " --layers -1", Expect.Error, "--layers must be at least 1"),
        new("init-random vocab too small", null, Init + " --vocab 100", Expect.Error, "--vocab must be at least 257"),
        new("init-random hidden not a number", null, Init + " --hidden wide", Expect.Error, "Cannot parse argument 'wide' for option '--hidden'"),
        new("init-random kv heads not dividing", null, Init + " --kv-heads 3", Expect.Error, "must be a multiple of num_key_value_heads (3)"),
        new("init-random odd head dim", null, Init + " --hidden 68 --heads 4", Expect.Error, "head dimension must be even"),
        new("init-random context zero", null, Init + " --context 0", Expect.Error, "--context must be at least 1"),
        new("init-random intermediate zero", null, Init + " --intermediate 0", Expect.Error, "--intermediate must be at least 1"),
        new("init-random 100000 layers", null, Init + " --layers 100000", Expect.Error, "field 'num_hidden_layers' must be in 1..1024"),
        new("init-random hidden 2^20", null, Init + " --hidden 1048576 --heads 4", Expect.Error, "field 'hidden_size' must be in 1..65536"),
        new("init-random embedding past an array", null, Init + " --vocab 4194303 --hidden 1024 --heads 4", Expect.Error, "the embedding (vocab_size x hidden_size) would hold"),
        new("init-random works", null, Init + " --hidden 32 --heads 4 --kv-heads 2 --layers 1 --context 64", Expect.Success),
        new("train steps not a number", null, "train --steps abc -o {run}", Expect.Error, "Cannot parse argument 'abc' for option '--steps'"),
        new("train steps zero", null, "train --steps 0 -o {run}", Expect.Error, "--steps must be at least 1"),
        new("train batch zero", null, "train -b 0 -o {run}", Expect.Error, "--batch must be at least 1"),
        new("train heads zero", null, "train --heads 0 -o {run}", Expect.Error, "--heads must be at least 1"),
        new("train lr negative", null, "train --lr -1 -o {run}", Expect.Error, "--lr must be positive"),
        new("train beta1 one", null, "train --beta1 1 -o {run}", Expect.Error, "--beta1 must lie in [0, 1)"),
        new("train vocab zero", null, "train --vocab 0 -o {run}", Expect.Error, "--vocab must be at least 1"),
        new("train without data", null, "train -o {run}", Expect.Error, "--data is required"),
        new("distill kd-temp zero", null, "distill --kd-temp 0 -o {run}", Expect.Error, "--kd-temp must be positive"),
        new("distill steps not a number", null, "distill --steps x -o {run}", Expect.Error, "Cannot parse argument 'x' for option '--steps'"),
        new("export-gguf type unknown", null, "export-gguf -m {model} -o {out}/m.gguf --type q4", Expect.Error, "Argument 'q4' not recognized"),
        new("export-gguf model missing", null, "export-gguf -m {out}/absent -o {out}/m.gguf", Expect.Error, "config.json: file not found"),
        new("export-gguf works", null, "export-gguf -m {model} -o {out}/m.gguf", Expect.Success),

        // config.json, field by field.
        new("config malformed", d => d.Write("config.json", "{\"architectures\": [\"LlamaForCausalLM\"],"), Gen, Expect.Error, "config.json: not valid JSON"),
        new("config missing", d => d.Delete("config.json"), Gen, Expect.Error, "config.json: file not found"),
        new("config null", d => d.Write("config.json", "null"), Gen, Expect.Error, "config.json: expected a JSON object"),
        new("config an array", d => d.Write("config.json", "[]"), Gen, Expect.Error, "config.json: expected a JSON object"),
        new("config not UTF-8", d => d.WriteBytes("config.json", [(byte)'{', 0xFF, 0xFE, (byte)'}']), Gen, Expect.Error, "config.json: not valid UTF-8"),
        new("config trailing garbage", d => File.AppendAllText(d.File("config.json"), "}x"), Gen, Expect.Error, "config.json: not valid JSON"),
        new("architectures and model_type missing", d => { d.SetConfig("architectures", null); d.SetConfig("model_type", null); }, Gen, Expect.Error, "missing field 'architectures'"),
        new("architectures missing, model_type names it", d => d.SetConfig("architectures", null), Gen, Expect.Success),
        new("architectures a number", d => d.SetConfig("architectures", "5"), Gen, Expect.Error, "missing field 'architectures'"),
        new("architecture unsupported", d => d.SetConfig("architectures", "[\"BertModel\"]"), Gen, Expect.Error, "architecture 'BertModel' is not supported"),
        new("vocab_size 2^31-1", d => d.SetConfig("vocab_size", "2147483647"), Gen, Expect.Error, "field 'vocab_size' must be in 1..4194304, got 2147483647"),
        new("vocab_size zero", d => d.SetConfig("vocab_size", "0"), Gen, Expect.Error, "field 'vocab_size' must be in 1..4194304, got 0"),
        new("vocab_size negative", d => d.SetConfig("vocab_size", "-5"), Gen, Expect.Error, "field 'vocab_size' must be in 1..4194304, got -5"),
        new("vocab_size a string", d => d.SetConfig("vocab_size", "\"257\""), Gen, Expect.Error, "field 'vocab_size' must be an integer, got \"257\""),
        new("vocab_size 1e20", d => d.SetConfig("vocab_size", "1e20"), Gen, Expect.Error, "field 'vocab_size' must be an integer, got 1e20"),
        new("vocab_size fractional", d => d.SetConfig("vocab_size", "257.5"), Gen, Expect.Error, "field 'vocab_size' must be an integer"),
        new("vocab_size missing", d => d.SetConfig("vocab_size", null), Gen, Expect.Error, "missing field 'vocab_size'"),
        new("hidden_size 2^31-1", d => d.SetConfig("hidden_size", "2147483647"), Gen, Expect.Error, "field 'hidden_size' must be in 1..65536"),
        new("hidden_size zero", d => d.SetConfig("hidden_size", "0"), Gen, Expect.Error, "field 'hidden_size' must be in 1..65536, got 0"),
        new("intermediate_size 2^31-1", d => d.SetConfig("intermediate_size", "2147483647"), Gen, Expect.Error, "field 'intermediate_size' must be in 1..262144"),
        new("intermediate_size negative", d => d.SetConfig("intermediate_size", "-1"), Gen, Expect.Error, "field 'intermediate_size' must be in 1..262144"),
        new("num_hidden_layers 2^31-1", d => d.SetConfig("num_hidden_layers", "2147483647"), Gen, Expect.Error, "field 'num_hidden_layers' must be in 1..1024"),
        new("num_hidden_layers zero", d => d.SetConfig("num_hidden_layers", "0"), Gen, Expect.Error, "field 'num_hidden_layers' must be in 1..1024, got 0"),
        new("num_attention_heads zero", d => d.SetConfig("num_attention_heads", "0"), Gen, Expect.Error, "field 'num_attention_heads' must be in 1..1024, got 0"),
        new("heads not dividing hidden", d => { d.SetConfig("head_dim", null); d.SetConfig("num_attention_heads", "3"); d.SetConfig("num_key_value_heads", "3"); },
            Gen, Expect.Error, "hidden size 32 is not a multiple of the 3 attention heads"),
        new("kv heads not dividing heads", d => d.SetConfig("num_key_value_heads", "3"), Gen, Expect.Error, "num_attention_heads (4) must be a multiple of num_key_value_heads (3)"),
        new("kv heads zero", d => d.SetConfig("num_key_value_heads", "0"), Gen, Expect.Error, "field 'num_key_value_heads' must be in 1..1024, got 0"),
        new("head_dim odd", d => d.SetConfig("head_dim", "7"), Gen, Expect.Error, "head dimension must be even and in 2..1024, got 7"),
        new("head_dim zero", d => d.SetConfig("head_dim", "0"), Gen, Expect.Error, "head dimension must be even and in 2..1024, got 0"),
        new("head_dim huge", d => d.SetConfig("head_dim", "1000000"), Gen, Expect.Error, "head dimension must be even and in 2..1024, got 1000000"),
        new("head_dim disagrees with weights", d => d.SetConfig("head_dim", "16"), Gen, Expect.Error, "tensor 'model.layers.0.self_attn.q_proj.weight' has shape [32, 32], expected [64, 32]"),
        new("kv heads disagree with weights", d => d.SetConfig("num_key_value_heads", "1"), Gen, Expect.Error,
            "tensor 'model.layers.0.self_attn.k_proj.weight' has shape [16, 32], expected [8, 32]"),
        new("sizes within the caps but gigabytes", d => { d.SetConfig("hidden_size", "16384"); d.SetConfig("head_dim", "64"); d.SetConfig("intermediate_size", "65536"); },
            Gen, Expect.Error, "weights (embedding and layer matrices) but the checkpoint holds 26816"),
        new("max_position_embeddings 2^31-1", d => d.SetConfig("max_position_embeddings", "2147483647"), Gen, Expect.Error, "field 'max_position_embeddings' must be in 1..16777216"),
        new("max_position_embeddings zero", d => d.SetConfig("max_position_embeddings", "0"), Gen, Expect.Error, "field 'max_position_embeddings' must be in 1..16777216, got 0"),
        new("rms_norm_eps -1", d => d.SetConfig("rms_norm_eps", "-1"), Gen, Expect.Error, "field 'rms_norm_eps' must be a positive number, got -1"),
        new("rms_norm_eps zero", d => d.SetConfig("rms_norm_eps", "0"), Gen, Expect.Error, "field 'rms_norm_eps' must be a positive number, got 0"),
        new("rms_norm_eps below float", d => d.SetConfig("rms_norm_eps", "1e-50"), Gen, Expect.Error, "field 'rms_norm_eps' must be a positive number, got 0"),
        new("rms_norm_eps past float", d => d.SetConfig("rms_norm_eps", "1e300"), Gen, Expect.Error, "field 'rms_norm_eps' must be a number within float range"),
        new("rms_norm_eps a string", d => d.SetConfig("rms_norm_eps", "\"1e-5\""), Gen, Expect.Error, "field 'rms_norm_eps' must be a number"),
        new("rope_theta zero", d => d.SetConfig("rope_theta", "0"), Gen, Expect.Error, "field 'rope_theta' must be a positive number, got 0"),
        new("rope_theta negative", d => d.SetConfig("rope_theta", "-10000"), Gen, Expect.Error, "field 'rope_theta' must be a positive number"),
        new("rope_theta a string", d => d.SetConfig("rope_theta", "\"abc\""), Gen, Expect.Error, "field 'rope_theta' must be a number"),
        new("bos_token_id 1e20", d => d.SetConfig("bos_token_id", "1e20"), Gen, Expect.Error, "field 'bos_token_id' must be an integer, got 1e20"),
        new("eos_token_id 1e20", d => d.SetConfig("eos_token_id", "1e20"), Gen, Expect.Error, "field 'eos_token_id' must be an integer or an array of integers, got 1e20"),
        new("eos_token_id past the vocabulary", d => d.SetConfig("eos_token_id", "5000"), Gen, Expect.Error, "field 'eos_token_id' is 5000, outside the vocabulary [0, 257)"),
        new("eos_token_id list past the vocabulary", d => d.SetConfig("eos_token_id", "[256, 99999]"), Gen, Expect.Error, "field 'eos_token_id' is 99999, outside the vocabulary"),
        new("bos_token_id negative", d => d.SetConfig("bos_token_id", "-1"), Gen, Expect.Error, "field 'bos_token_id' is -1, outside the vocabulary"),
        new("tie_word_embeddings a string", d => d.SetConfig("tie_word_embeddings", "\"yes\""), Gen, Expect.Error, "field 'tie_word_embeddings' must be true or false"),
        new("config with unknown extra fields", d => d.SetConfig("rope_scaling", "{\"type\": \"none\"}"), Gen, Expect.Success),

        // Weights.
        new("NaN weight", d => d.EditWeights(w => w.FinalNorm[3] = float.NaN), Gen, Expect.Error, "the model produced a non-finite logit (NaN) at position 0"),
        new("NaN weight, scanned", d => d.EditWeights(w => w.FinalNorm[3] = float.NaN), G(" --check-weights"), Expect.Error,
            "tensor 'model.norm.weight' holds NaN at element 3"),
        new("Inf weight, scanned", d => d.EditWeights(w => w.Layers[1].Down[5 * 64 + 2] = float.PositiveInfinity), G(" --check-weights"), Expect.Error,
            "tensor 'model.layers.1.mlp.down_proj.weight' holds +Inf at row 5, column 2"),
        new("Inf weight in speculate", d => d.EditWeights(w => w.Embedding.AsSpan().Fill(float.NegativeInfinity)), Spec, Expect.Error,
            "produced a non-finite logit (NaN) at position"),
        new("NaN weight in speculate, scanned", d => d.EditWeights(w => w.FinalNorm[0] = float.NaN), S(" --check-weights"), Expect.Error,
            "tensor 'model.norm.weight' holds NaN at element 0"),
        new("more layers than the config", d => d.SetConfig("num_hidden_layers", "1"), Gen, Expect.Error,
            "tensors are not used by config.json (LlamaForCausalLM); 1 of their layers lie beyond num_hidden_layers = 1: model.layers.1."),
        new("unused tensor", d => d.EditWeights(_ => { }, w => w.Add("vision.proj.weight", [1f, 2f], [2])), Gen, Expect.Error,
            "1 tensors are not used by config.json (LlamaForCausalLM): vision.proj.weight"),
        new("rotary buffer is skipped", d => d.EditWeights(_ => { }, w => w.Add("model.layers.0.self_attn.rotary_emb.inv_freq", [1f, 0.1f], [2])), Gen, Expect.Success),
        new("lm_head with tied embeddings", d => d.EditWeights(_ => { }, w => w.Add("lm_head.weight", new float[257 * 32], [257, 32])), Gen, Expect.Warning,
            "tensor 'lm_head.weight' is ignored because config.json ties the output to the embedding"),
        new("untied without lm_head", d => d.SetConfig("tie_word_embeddings", "false"), Gen, Expect.Error, "tensor 'lm_head.weight' is missing"),
        new("weights truncated", d => Truncate(d.File("model.safetensors"), 100), Gen, Expect.Error, "model.safetensors': header length"),
        new("weights cut short", d => Truncate(d.File("model.safetensors"), 6), Gen, Expect.Error, "file is truncated: 6 bytes"),
        new("weights header length huge", d => OverwriteHeaderLength(d.File("model.safetensors"), ulong.MaxValue), Gen, Expect.Error, "exceeds the cap of"),
        new("weights missing", d => d.Delete("model.safetensors"), Gen, Expect.Error, "contains neither model.safetensors nor model.safetensors.index.json"),
        new("weights link outside", d => d.Link("model.safetensors", "/etc/passwd"), Gen, Expect.Error, "is a link to '/etc/passwd', outside the model directory"),
        new("config link outside", d => d.Link("config.json", "/etc/passwd"), Gen, Expect.Error, "config.json: is a link to '/etc/passwd', outside the model directory"),
        new("tokenizer link outside", d => d.Link("tokenizer.json", "/etc/hostname"), Gen, Expect.Error, "tokenizer.json: is a link to '/etc/hostname', outside"),
        new("config link inside", d => { File.Move(d.File("config.json"), d.File("real-config.json")); d.Link("config.json", "real-config.json"); }, Gen, Expect.Success),
        new("index shard outside", d => { d.Delete("model.safetensors"); d.Write("model.safetensors.index.json", "{\"weight_map\": {\"model.norm.weight\": \"../x.safetensors\"}}"); },
            Gen, Expect.Error, "shard name '../x.safetensors' (for tensor 'model.norm.weight') points outside the model directory"),
        new("index malformed", d => { d.Delete("model.safetensors"); d.Write("model.safetensors.index.json", "{\"weight_map\": "); }, Gen, Expect.Error, "index is not valid JSON"),

        // Tokenizer and generation side files.
        new("tokenizer.json malformed", d => d.Write("tokenizer.json", "{\"model\": {"), Gen, Expect.Error, "tokenizer.json: not valid JSON"),
        new("tokenizer.json null", d => d.Write("tokenizer.json", "null"), Gen, Expect.Error, "tokenizer.json: expected a JSON object"),
        new("tokenizer.json vocab not an object", d => d.Write("tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": 5}, \"decoder\": {\"type\": \"ByteLevel\"}}"),
            Gen, Expect.Error, "tokenizer.json: tokenizer.model.vocab: expected an object"),
        new("tokenizer.json id negative", d => EditTokenizerVocab(d, "Ā", "-1"), Gen, Expect.Error, "tokenizer.json: tokenizer.model.vocab.Ā: expected a non-negative integer id"),
        new("tokenizer.json id 2^31-1", d => EditTokenizerVocab(d, "Ā", "2147483647"), Gen, Expect.Error, "has id 2147483647; ids must lie in"),
        new("tokenizer.json id past int", d => EditTokenizerVocab(d, "Ā", "99999999999"), Gen, Expect.Error, "tokenizer.json: tokenizer.model.vocab.Ā: expected a non-negative integer id"),
        new("tokenizer.json duplicate id", d => EditTokenizerVocab(d, "Ā", "34"), Gen, Expect.Error, "share id 34"),
        new("tokenizer.json not UTF-8", d => d.WriteBytes("tokenizer.json", [(byte)'{', 0xC3, 0x28, (byte)'}']), Gen, Expect.Error, "tokenizer.json: not valid UTF-8"),
        new("vocab.json malformed", d => { d.Delete("tokenizer.json"); d.Write("vocab.json", "{\"a\": 1"); }, Gen, Expect.Error, "vocab.json: cannot be read"),
        new("vocab.json null", d => { d.Delete("tokenizer.json"); d.Write("vocab.json", "null"); }, Gen, Expect.Error, "vocab.json: holds null"),
        new("vocab.json id a string", d => { d.Delete("tokenizer.json"); d.Write("vocab.json", "{\"a\": \"1\"}"); }, Gen, Expect.Error, "vocab.json: cannot be read at $.a"),
        new("tokenizer_config.json malformed", d => d.Write("tokenizer_config.json", "{\"add_bos_token\": tru}"), Gen, Expect.Error, "tokenizer_config.json: not valid JSON"),
        new("tokenizer_config.json decoder key", d => { d.Delete("tokenizer.json"); d.Write("tokenizer_config.json", "{\"added_tokens_decoder\": {\"abc\": {\"content\": \"x\"}}}"); },
            Gen, Expect.Error, "key of 'added_tokens_decoder.abc' must be a token id"),
        new("tokenizer_config.json decoder content", d => { d.Delete("tokenizer.json"); d.Write("tokenizer_config.json", "{\"added_tokens_decoder\": {\"256\": {\"content\": 5}}}"); },
            Gen, Expect.Error, "field 'added_tokens_decoder.256' must be an object with a string 'content'"),
        new("added_tokens.json id a string", d => { d.Delete("tokenizer.json"); d.Write("added_tokens.json", "{\"<x>\": \"x\"}"); }, Gen, Expect.Error,
            "added_tokens.json: field '<x>' must hold token ids"),
        new("generation_config.json malformed", d => d.Write("generation_config.json", "{\"eos_token_id\": [1,"), Gen, Expect.Error, "generation_config.json: not valid JSON"),
        new("generation_config.json eos 1e20", d => d.Write("generation_config.json", "{\"eos_token_id\": 1e20}"), Gen, Expect.Error,
            "generation_config.json: field 'eos_token_id' must hold token ids (non-negative integers), got 1e20"),
        new("generation_config.json eos a string", d => d.Write("generation_config.json", "{\"eos_token_id\": [\"2\"]}"), Gen, Expect.Error,
            "field 'eos_token_id' must hold token ids"),
        new("generation_config.json null", d => d.Write("generation_config.json", "null"), Gen, Expect.Success),
        new("no tokenizer at all", d => { d.Delete("tokenizer.json"); d.Delete("vocab.json"); }, Gen, Expect.Error, "No supported tokenizer"),
        new("tokenizer larger than vocab_size", d => { d.SetConfig("vocab_size", "200"); d.SetConfig("bos_token_id", null); d.SetConfig("eos_token_id", null); },
            Gen, Expect.Error, "tokenizer has 257 tokens but config.json's vocab_size is 200"),

        // trainer_state.json of a run to resume.
        new("trainer_state malformed", d => WriteState(d, "{\"Kind\": \"train\","), Resume, Expect.Error, "trainer_state.json: cannot be read"),
        new("trainer_state null", d => WriteState(d, "null"), Resume, Expect.Error, "trainer_state.json: holds null, expected a State object"),
        new("trainer_state missing fields", d => WriteState(d, "{\"Kind\": \"train\"}"), Resume, Expect.Error, "trainer_state.json: cannot be read at $ (line 1, byte 18): JSON deserialization for type 'DistillSpec.Training.LanguageModelTrainer+State' was missing required properties including: 'Step'"),
        new("trainer_state step a string", d => WriteState(d, "{\"Kind\": \"train\", \"Step\": \"x\"}"), Resume, Expect.Error, "trainer_state.json: cannot be read at $.Step"),
        new("trainer_state of the other kind", d => WriteState(d, "{\"Kind\": \"distill\", \"Step\": 1, \"Cursor\": {\"Epoch\": 0, \"Index\": 0}, \"ElapsedSeconds\": 0, \"Settings\": {\"TrainData\": \"x.bin\"}}"),
            Resume, Expect.Error, "is a 'distill' checkpoint, not a 'train' one"),
        new("no checkpoint to resume", null, Resume, Expect.Error, "no checkpoint to resume"),
        new("distill trainer_state null", d => WriteState(d, "null"), "distill --resume -o {run}", Expect.Error, "trainer_state.json: holds null"),
    ];

    // generate / speculate with a short greedy run on one thread, unless extra sets those options itself.
    private static string G(string extra = "") => "generate -m {model}" + Defaults(extra, "-n 3");

    private static string S(string extra = "") => "speculate -m {model} -md {draft}" + Defaults(extra, "-n 6");

    private static string Defaults(string extra, string length) =>
        extra + (Has(extra, "-n") ? "" : " " + length) + (Has(extra, "--temp") ? "" : " --temp 0") + (Has(extra, "-t") ? "" : " -t 1");

    private static bool Has(string args, string option) => $" {args} ".Contains($" {option} ", StringComparison.Ordinal);

    private static void Truncate(string path, int length)
    {
        using var f = new FileStream(path, FileMode.Open);
        f.SetLength(length);
    }

    private static void OverwriteHeaderLength(string path, ulong length)
    {
        using var f = new FileStream(path, FileMode.Open);
        f.Write(BitConverter.GetBytes(length));
    }

    private static void EditTokenizerVocab(CaseDirectory d, string token, string rawId)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(d.File("tokenizer.json")))!;
        root["model"]!["vocab"]![token] = System.Text.Json.Nodes.JsonNode.Parse(rawId);
        d.Write("tokenizer.json", root.ToJsonString());
    }

    private static void WriteState(CaseDirectory d, string json)
    {
        string checkpoint = Path.Combine(d.Run, "checkpoint");
        Directory.CreateDirectory(checkpoint);
        File.WriteAllText(Path.Combine(checkpoint, "trainer_state.json"), json);
    }
}
