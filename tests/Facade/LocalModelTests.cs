using DistillSpec.Generation;
using DistillSpec.Models;
using DistillSpec.Sampling;

namespace DistillSpec.Tests.Facade;

public sealed class ShippedTargetFixture : IDisposable
{
    public LocalModel Model { get; } = LocalModel.Load(ShippedWeights.Target, new ModelOptions { Device = "cpu", Threads = 1 });

    public void Dispose() => Model.Dispose();
}

public class LocalModelTests(ShippedTargetFixture fixture)
    : IClassFixture<ShippedTargetFixture>
{
    private readonly LocalModel _model = fixture.Model;
    private static readonly GenerationOptions Greedy = new() { MaxTokens = 24, Temperature = 0 };

    [Fact]
    public async Task StreamedTextIsTheEnginesGreedyOutput()
    {
        var prompt = _model.Encode("def read_config(path):");
        var expected = new Generator(_model.Model.Transformer, SamplingSettings.GreedyDecoding, 0)
            .Generate(prompt, Greedy.MaxTokens, _model.Tokenizer.EosIds.ToHashSet());

        var updates = new List<GenerationUpdate>();
        await foreach (var update in _model.GenerateAsync("def read_config(path):", Greedy)) updates.Add(update);

        Assert.Equal(expected.Tokens, updates.SelectMany(u => u.TokenIds));
        Assert.All(updates.SelectMany(u => u.Origins), o => Assert.Equal(TokenOrigin.Target, o));
        Assert.Equal(_model.Decode(expected.Tokens), string.Concat(updates.Select(u => u.Text)));
        var stats = Assert.Single(updates, u => u.IsFinal).Stats!;
        Assert.Same(updates[^1].Stats, stats);
        Assert.Equal(prompt.Length, stats.PromptTokens);
        Assert.Equal(expected.Tokens.Length, stats.GeneratedTokens);
        Assert.Null(stats.Speculative);
    }

    [Fact]
    public async Task TheSameSeedGivesTheSameTextAndTheStatsSayWhichSeedWasUsed()
    {
        var sampled = new GenerationOptions { MaxTokens = 32, Temperature = 1, Seed = 1234 };
        var first = await _model.CompleteAsync("import os", sampled);
        var second = await _model.CompleteAsync("import os", sampled);
        var other = await _model.CompleteAsync("import os", sampled with { Seed = 99 });
        Assert.Equal(first.TokenIds, second.TokenIds);
        Assert.NotEqual(first.TokenIds, other.TokenIds);
        Assert.Equal(1234, first.Stats.Seed);

        var unseeded = await _model.CompleteAsync("import os", sampled with { Seed = null });
        var replay = await _model.CompleteAsync("import os", sampled with { Seed = unseeded.Stats.Seed });
        Assert.Equal(unseeded.TokenIds, replay.TokenIds);
    }

    [Fact]
    public async Task TextEndsBeforeTheStopStringAndSaysSo()
    {
        var full = await _model.CompleteAsync("class Config:", Greedy with { MaxTokens = 48 });
        string stop = full.Text.Substring(full.Text.Length / 2, 3);
        int cut = full.Text.IndexOf(stop, StringComparison.Ordinal);

        var stopped = await _model.CompleteAsync("class Config:", Greedy with { MaxTokens = 48, StopStrings = [stop] });
        Assert.Equal(full.Text[..cut], stopped.Text);
        Assert.Equal(FinishReason.StopString, stopped.Stats.FinishReason);
        Assert.True(stopped.TokenIds.Count < full.TokenIds.Count);
        Assert.Equal(full.TokenIds.Take(stopped.TokenIds.Count), stopped.TokenIds);
    }

    [Fact]
    public async Task CancellingMidStreamThrowsAndTheModelKeepsWorking()
    {
        using var cancel = new CancellationTokenSource();
        int seen = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in _model.GenerateAsync("def", Greedy with { MaxTokens = 400 }, cancel.Token))
                if (++seen == 3) await cancel.CancelAsync();
        });
        Assert.Equal(3, seen);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _model.CompleteAsync("def", Greedy, cancel.Token));
        Assert.Equal(Greedy.MaxTokens, (await _model.CompleteAsync("def", Greedy with { IgnoreEndOfSequence = true })).TokenIds.Count);
    }

    [Fact]
    public async Task LeavingAStreamEarlyStopsTheRunAndFreesTheModel()
    {
        await foreach (var _ in _model.GenerateAsync("def", Greedy with { MaxTokens = 400 })) break;
        Assert.Equal(0, _model.QueuedCalls);
        var next = await _model.CompleteAsync("def", Greedy);
        Assert.NotEmpty(next.TokenIds);
    }

    [Fact]
    public async Task EightConcurrentCallersGetWhatEachWouldGetAlone()
    {
        string[] prompts = ["def main():", "import sys", "class A:", "for i in range(", "# read the file", "return", "if x:", "with open("];
        var sequential = new List<Completion>();
        foreach (var p in prompts) sequential.Add(await _model.CompleteAsync(p, Greedy));

        var concurrent = await Task.WhenAll(prompts.Select(p => Task.Run(() => _model.CompleteAsync(p, Greedy))));
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(sequential[i].TokenIds, concurrent[i].TokenIds);
            Assert.Equal(sequential[i].Text, concurrent[i].Text);
        }
    }

    [Fact]
    public async Task AnEmptyPromptStartsFromTheModelsBos()
    {
        var completion = await _model.CompleteAsync("", Greedy);
        Assert.Equal(1, completion.Stats.PromptTokens);
        Assert.NotEmpty(completion.TokenIds);
    }

    [Fact]
    public async Task BadArgumentsAreClearErrorsInLibraryWords()
    {
        var tooFew = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _model.CompleteAsync("x", new GenerationOptions { MaxTokens = 0 }));
        Assert.Equal("MaxTokens", tooFew.ParamName);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _model.CompleteAsync("x", new GenerationOptions { TopP = 0 }));
        await Assert.ThrowsAsync<ContextLengthException>(() => _model.CompleteAsync("x", new GenerationOptions { MaxTokens = _model.ContextLength + 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => _model.GenerateAsync([_model.Config.VocabSize]));
        Assert.Throws<ArgumentException>(() => _model.GenerateAsync(Array.Empty<int>()));
        var device = Assert.Throws<ArgumentException>(() => LocalModel.Load(ShippedWeights.Target, new ModelOptions { Device = "tpu" }));
        Assert.Contains("Device 'tpu'", device.Message);
        Assert.DoesNotContain("--", device.Message);
    }

    [Fact]
    public async Task LoadingAsynchronouslyHonoursCancellation()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => LocalModel.LoadAsync(ShippedWeights.Tiny, cancellationToken: cancelled.Token));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            SpeculativePair.LoadAsync(ShippedWeights.Target, ShippedWeights.Draft, cancellationToken: cancelled.Token));
        using var model = await LocalModel.LoadAsync(ShippedWeights.Tiny, new ModelOptions { Device = "cpu", Threads = 1 });
        Assert.NotEmpty((await model.CompleteAsync("a", new GenerationOptions { MaxTokens = 4, IgnoreEndOfSequence = true })).TokenIds);
    }

    [Fact]
    public async Task DisposingStopsARunningCallAndLaterCallsFail()
    {
        var model = LocalModel.Load(ShippedWeights.Tiny, new ModelOptions { Device = "cpu", Threads = 1 });
        var options = new GenerationOptions { MaxTokens = 1000, Temperature = 0, IgnoreEndOfSequence = true };
        await using var updates = model.GenerateAsync("a", options).GetAsyncEnumerator();
        Assert.True(await updates.MoveNextAsync());
        model.Dispose();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => { while (await updates.MoveNextAsync()) { } });
        Assert.Throws<ObjectDisposedException>(() => model.GenerateAsync("a"));
    }
}
