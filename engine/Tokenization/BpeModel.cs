using System.Collections.Concurrent;
using System.Text;

namespace DistillSpec.Tokenization;

/// <summary>
/// Byte-pair encoding over the characters (code points) of a pre-token: the pair with the lowest merge rank is
/// merged first, the leftmost on a tie, until no ranked pair is left. A resulting piece outside the vocabulary
/// becomes its UTF-8 bytes as &lt;0xNN&gt; tokens (byte_fallback) or the unknown token.
/// </summary>
internal sealed class BpeModel : ITokenModel
{
    private const int MaxCachedLength = 256, CacheCapacity = 100_000;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    // (left id, right id) -> (rank, merged id)
    private readonly Dictionary<long, (int Rank, int Id)> _merges;
    private readonly int[]? _byteIds;
    private readonly bool _ignoreMerges;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    /// <param name="vocab">Token to id, added tokens included (they win over a vocabulary entry of the same text).</param>
    /// <param name="merges">Merge pairs, highest priority first; every part and result must be in <paramref name="vocab"/>.</param>
    public BpeModel(Dictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges, int unknownId,
        bool fuseUnknown, bool byteFallback, bool ignoreMerges)
    {
        _vocab = vocab;
        _lookup = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        UnknownId = unknownId;
        FuseUnknown = fuseUnknown;
        _ignoreMerges = ignoreMerges;
        Merges = merges;
        _merges = new Dictionary<long, (int, int)>(merges.Count, PairComparer.Instance);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!vocab.TryGetValue(left, out int l) || !vocab.TryGetValue(right, out int r) || !vocab.TryGetValue(left + right, out int m))
                throw new ArgumentException($"merge {rank} (\"{left}\", \"{right}\") needs both parts and their concatenation in the vocabulary");
            _merges.TryAdd(Key(l, r), (rank, m));
        }
        if (byteFallback)
        {
            _byteIds = new int[256];
            for (int b = 0; b < 256; b++) _byteIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;
        }
    }

    public int UnknownId { get; }
    public bool FuseUnknown { get; }
    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    public void Encode(string piece, List<int> ids)
    {
        if (piece.Length == 0) return;
        if (_ignoreMerges && _vocab.TryGetValue(piece, out int whole))
        {
            ids.Add(whole);
            return;
        }
        if (_cache.TryGetValue(piece, out int[]? cached))
        {
            ids.AddRange(cached);
            return;
        }
        int start = ids.Count;
        Merge(piece, ids);
        if (piece.Length < MaxCachedLength)
        {
            if (_cache.Count >= CacheCapacity) _cache.Clear();
            _cache.TryAdd(piece, ids.GetRange(start, ids.Count - start).ToArray());
        }
    }

    private static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>
    /// long's own hash (high ^ low) sends pairs of small ids to few buckets: (a, b) and (a ^ x, b ^ x) always
    /// collide. A multiplicative mix spreads them.
    /// </summary>
    private sealed class PairComparer : IEqualityComparer<long>
    {
        public static readonly PairComparer Instance = new();
        public bool Equals(long x, long y) => x == y;
        public int GetHashCode(long key) => (int)((ulong)key * 0x9E3779B97F4A7C15UL >> 32);
    }

    private void Merge(string piece, List<int> ids)
    {
        // Symbols start as code points; unknown ones (id -1) never take part in a merge.
        int n = 0;
        var id = new int[piece.Length];
        var from = new int[piece.Length];
        var width = new int[piece.Length];
        for (int i = 0; i < piece.Length; n++)
        {
            int w = char.IsHighSurrogate(piece[i]) && i + 1 < piece.Length && char.IsLowSurrogate(piece[i + 1]) ? 2 : 1;
            id[n] = _lookup.TryGetValue(piece.AsSpan(i, w), out int v) ? v : -1;
            from[n] = i;
            width[n] = w;
            i += w;
        }
        var next = new int[n];
        var prev = new int[n];
        for (int i = 0; i < n; i++)
        {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }

        // Priority is rank, then the position of the left symbol (which a merged symbol keeps).
        var queue = new PriorityQueue<int, long>();
        for (int i = 0; i + 1 < n; i++) Enqueue(queue, id, i, i + 1);
        while (queue.TryDequeue(out int left, out long priority))
        {
            int right = next[left];
            if (id[left] == -2 || right < 0 || !_merges.TryGetValue(Key(id[left], id[right]), out var merge) || merge.Rank != (int)(priority >> 32))
                continue;
            id[left] = merge.Id;
            width[left] += width[right];
            id[right] = -2; // merged away
            next[left] = next[right];
            if (next[right] >= 0) prev[next[right]] = left;
            if (prev[left] >= 0) Enqueue(queue, id, prev[left], left);
            if (next[left] >= 0) Enqueue(queue, id, left, next[left]);
        }

        for (int i = 0; i >= 0 && n > 0; i = next[i])
        {
            if (id[i] >= 0) ids.Add(id[i]);
            else AddUnknown(piece.AsSpan(from[i], width[i]), ids);
        }
    }

    private void Enqueue(PriorityQueue<int, long> queue, int[] id, int left, int right)
    {
        if (id[left] >= 0 && id[right] >= 0 && _merges.TryGetValue(Key(id[left], id[right]), out var merge))
            queue.Enqueue(left, ((long)merge.Rank << 32) | (uint)left);
    }

    private void AddUnknown(ReadOnlySpan<char> text, List<int> ids)
    {
        if (_byteIds is not null)
        {
            Span<byte> bytes = stackalloc byte[8];
            int count = Encoding.UTF8.GetBytes(text, bytes);
            bool all = true;
            for (int k = 0; k < count; k++) all &= _byteIds[bytes[k]] >= 0;
            if (all)
            {
                for (int k = 0; k < count; k++) ids.Add(_byteIds[bytes[k]]);
                return;
            }
        }
        if (UnknownId >= 0) ids.Add(UnknownId);
    }
}
