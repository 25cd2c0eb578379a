namespace DistillSpec.Tokenization;

/// <summary>The "model" section of tokenizer.json: turns one pre-token into ids.</summary>
internal interface ITokenModel
{
    /// <summary>Id of the unknown token, or -1 when the model has none (an unknown piece is then dropped, as the reference yields no id).</summary>
    int UnknownId { get; }
    /// <summary>Whether runs of unknown tokens collapse into one.</summary>
    bool FuseUnknown { get; }
    void Encode(string piece, List<int> ids);
}
