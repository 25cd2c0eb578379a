using DistillSpec.Backends;

namespace DistillSpec.Models;

/// <summary>
/// Keys and values of one sequence, preallocated per layer at a fixed capacity on the model's
/// backend. Positions past Length are garbage; truncating just moves Length, which is how
/// speculative decoding rolls back rejected draft tokens.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor[] _keys, _values;

    internal KvCache(IBackend backend, int layers, int capacity, int kvDim)
    {
        Capacity = capacity;
        _keys = new Tensor[layers];
        _values = new Tensor[layers];
        for (int i = 0; i < layers; i++)
        {
            _keys[i] = backend.Allocate(capacity * kvDim);
            _values[i] = backend.Allocate(capacity * kvDim);
        }
    }

    public int Capacity { get; }

    /// <summary>Number of positions whose keys and values are valid.</summary>
    public int Length { get; private set; }

    internal Tensor Keys(int layer) => _keys[layer];

    internal Tensor Values(int layer) => _values[layer];

    public void Truncate(int length)
    {
        if (length < 0 || length > Length)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"cache holds {Length} positions; can truncate to 0..{Length}");
        Length = length;
    }

    public void Clear() => Length = 0;

    /// <summary>Checks that positions [start, start + count) fit before they are written.</summary>
    internal void EnsureRoom(int start, int count)
    {
        if (start < 0 || start > Length)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"cache holds {Length} positions; new tokens must start at 0..{Length}");
        if (start + count > Capacity)
            throw new ContextLengthException(start + count, Capacity);
    }

    internal void SetLength(int length) => Length = length;

    public void Dispose()
    {
        foreach (var t in _keys) t.Dispose();
        foreach (var t in _values) t.Dispose();
    }
}

public sealed class ContextLengthException(long needed, int capacity)
    : Exception($"prompt plus generation needs {needed} positions but the context length is {capacity}; shorten the prompt or generate fewer tokens")
{
    public long Needed { get; } = needed;
    public int Capacity { get; } = capacity;

    /// <summary>
    /// The cache positions a prompt and maxTokens generated tokens use (the last token is never fed
    /// back), checked against the context before anything is sized by them: -n 2000000000 must be
    /// this error, not an overflow or an 8 GB buffer.
    /// </summary>
    public static int EnsureFits(int promptLength, int maxTokens, int context)
    {
        long needed = (long)promptLength + maxTokens - 1;
        return needed <= context ? (int)needed : throw new ContextLengthException(needed, context);
    }
}
