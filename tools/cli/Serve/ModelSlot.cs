using DistillSpec.Speculative;

namespace DistillSpec.Cli.Serve;

/// <summary>
/// One loaded copy of the served model: the target alone, or a target with its draft. A slot runs
/// one request at a time (the facade serialises calls on a model); --parallel loads several.
/// </summary>
internal sealed class ModelSlot : IDisposable
{
    private readonly LocalModel? _single;
    private readonly SpeculativePair? _pair;
    private readonly SpeculativeOptions _speculation;

    public ModelSlot(LocalModel model)
    {
        _single = model;
        _speculation = new SpeculativeOptions();
    }

    public ModelSlot(SpeculativePair pair, SpeculativeOptions speculation)
    {
        _pair = pair;
        _speculation = speculation.Validate();
    }

    /// <summary>The model that tokenizes, templates and (with a draft) verifies.</summary>
    public LocalModel Target => _pair?.Target ?? _single!;

    public bool Speculative => _pair is not null;

    public string? DraftPath => _pair?.Draft.Path;

    public IAsyncEnumerable<GenerationUpdate> Generate(int[] prompt, GenerationOptions options, CancellationToken cancellationToken) =>
        _pair is null
            ? _single!.GenerateAsync(prompt, options, cancellationToken)
            : _pair.GenerateAsync(prompt, options, _speculation, cancellationToken);

    public void Dispose()
    {
        _pair?.Dispose();
        _single?.Dispose();
    }
}
