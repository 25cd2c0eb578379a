using System.Runtime.CompilerServices;
using System.Threading.Channels;
using DistillSpec.Generation;
using DistillSpec.Speculative;
using DistillSpec.Tokenization;

namespace DistillSpec;

/// <summary>What a synchronous decoding run reports back to the stream when it ends.</summary>
/// <param name="DecodedTokens">Tokens produced after the prefill (plain decoding samples the first from the prefill's logits).</param>
internal sealed record RunOutcome(int PromptTokens, TimeSpan PromptTime, int DecodedTokens, TimeSpan DecodeTime, StopReason StopReason,
    SpeculativeStats? Speculative);

/// <summary>
/// Runs one synchronous decoding call (Generator or SpeculativeDecoder) on a worker thread while
/// holding the model's gate, and turns its tokens into streamed updates. The consumer leaving early,
/// its CancellationToken, or the model being disposed all stop the run at its next step; the stream
/// does not return until the run has stopped, so no work outlives it.
/// </summary>
internal static class GenerationStream
{
    /// <param name="run">The decoding call: emits tokens into the sink and stops when the token it is given is cancelled.</param>
    public static async IAsyncEnumerable<GenerationUpdate> Run(FifoGate gate, CancellationToken lifetime, TextTokenizer tokenizer,
        GenerationOptions options, Func<TokenSink, int, CancellationToken, RunOutcome> run,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        options.Validate();
        int seed = options.ResolveSeed();
        var sink = new TokenSink(tokenizer, options.StopStrings);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime);
        sink.Stopped = stop.Cancel;

        var worker = Task.Run(async () =>
        {
            try
            {
                using (await gate.EnterAsync(stop.Token).ConfigureAwait(false))
                {
                    var outcome = run(sink, seed, stop.Token);
                    lifetime.ThrowIfCancellationRequested();
                    cancellationToken.ThrowIfCancellationRequested();
                    sink.Finish(outcome, seed);
                }
                sink.Updates.Writer.TryComplete();
            }
            catch (Exception e)
            {
                sink.Updates.Writer.TryComplete(e);
            }
        }, CancellationToken.None);

        try
        {
            // Updates may be queued faster than they are read: cancellation is checked per update,
            // not only when the reader has to wait.
            await foreach (var update in sink.Updates.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                cancellationToken.ThrowIfCancellationRequested();
                lifetime.ThrowIfCancellationRequested();
                yield return update;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await worker.ConfigureAwait(false);
        }
    }

    /// <summary>Collects a stream into one completion.</summary>
    public static async Task<Completion> Collect(IAsyncEnumerable<GenerationUpdate> updates)
    {
        var text = new System.Text.StringBuilder();
        var ids = new List<int>();
        var origins = new List<TokenOrigin>();
        GenerationStats? stats = null;
        await foreach (var update in updates.ConfigureAwait(false))
        {
            text.Append(update.Text);
            ids.AddRange(update.TokenIds);
            origins.AddRange(update.Origins);
            stats ??= update.Stats;
        }
        return new Completion(text.ToString(), [.. ids], [.. origins], stats!);
    }
}

/// <summary>Receives a run's tokens on the worker thread and writes updates for the consumer.</summary>
internal sealed class TokenSink(TextTokenizer tokenizer, IReadOnlyList<string> stopStrings)
{
    private readonly StreamingDecoder _text = tokenizer.CreateStreamingDecoder();
    private readonly StopStrings _stops = new(stopStrings);
    private int _generated;

    public Channel<GenerationUpdate> Updates { get; } = Channel.CreateUnbounded<GenerationUpdate>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    /// <summary>Called once, when a stop string has appeared: ends the run.</summary>
    public Action? Stopped { get; set; }

    public void Add(int token, TokenOrigin origin)
    {
        // Tokens of a speculative round that follow a stop string are neither counted nor shown.
        if (_stops.Stopped) return;
        _generated++;
        string text = _stops.Push(_text.Append(token));
        Updates.Writer.TryWrite(new GenerationUpdate { Text = text, TokenIds = [token], Origins = [origin] });
        if (_stops.Stopped) Stopped?.Invoke();
    }

    public void Finish(RunOutcome outcome, int seed)
    {
        string rest = _stops.Stopped ? "" : _stops.Push(_text.Flush()) + _stops.Flush();
        var reason = _stops.Stopped ? FinishReason.StopString
            : outcome.StopReason == StopReason.EndOfSequence ? FinishReason.EndOfSequence
            : FinishReason.Length;
        var stats = new GenerationStats
        {
            PromptTokens = outcome.PromptTokens,
            GeneratedTokens = _generated,
            PromptTime = outcome.PromptTime,
            DecodedTokens = outcome.DecodedTokens,
            DecodeTime = outcome.DecodeTime,
            FinishReason = reason,
            Seed = seed,
            Speculative = outcome.Speculative,
        };
        Updates.Writer.TryWrite(new GenerationUpdate { Text = rest, TokenIds = [], Origins = [], Stats = stats });
    }
}
