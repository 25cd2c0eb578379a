namespace DistillSpec.Training;

/// <summary>Where a loader stands: the epoch and the next window within it. Saved in checkpoints.</summary>
public sealed record DataCursor(int Epoch, int Index);

/// <summary>
/// Cuts a token stream into windows of Length tokens every Stride tokens and serves them in a
/// seeded order that is reshuffled each epoch. The order of an epoch is a pure function of
/// (seed, epoch), so the cursor alone restores a loader exactly.
/// </summary>
public sealed class WindowLoader
{
    private readonly int[] _tokens;
    private readonly ulong _seed;
    private readonly bool _shuffle;
    private int[] _order;

    public WindowLoader(int[] tokens, int length, int stride, ulong seed, bool shuffle = true)
    {
        if (length < 1 || stride < 1) throw new ArgumentOutOfRangeException(nameof(length), "window length and stride must be positive");
        if (tokens.Length < length)
            throw new ArgumentException($"the token file holds {tokens.Length} tokens but one window needs {length}", nameof(tokens));
        (_tokens, Length, Stride, _seed, _shuffle) = (tokens, length, stride, seed, shuffle);
        Windows = (tokens.Length - length) / stride + 1;
        Cursor = new DataCursor(0, 0);
        _order = Order(0);
    }

    public int Length { get; }
    public int Stride { get; }
    public int Windows { get; }
    public DataCursor Cursor { get; private set; }

    public void Seek(DataCursor cursor)
    {
        if (cursor.Index < 0 || cursor.Index > Windows || cursor.Epoch < 0) throw new ArgumentOutOfRangeException(nameof(cursor), cursor, "cursor outside the data");
        if (cursor.Epoch != Cursor.Epoch) _order = Order(cursor.Epoch);
        Cursor = cursor;
    }

    /// <summary>Copies the next window into destination (Length tokens) and advances.</summary>
    public void Next(Span<int> destination)
    {
        if (Cursor.Index == Windows) Seek(new DataCursor(Cursor.Epoch + 1, 0));
        _tokens.AsSpan(_order[Cursor.Index] * Stride, Length).CopyTo(destination);
        Cursor = Cursor with { Index = Cursor.Index + 1 };
    }

    /// <summary>count windows into destination (count, Length).</summary>
    public void Next(int count, Span<int> destination)
    {
        for (int i = 0; i < count; i++) Next(destination.Slice(i * Length, Length));
    }

    private int[] Order(int epoch)
    {
        var order = Enumerable.Range(0, Windows).ToArray();
        if (!_shuffle) return order;
        var rng = new TrainingRng(_seed ^ (0xD1B54A32D192ED03UL * (ulong)(epoch + 1)));
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
