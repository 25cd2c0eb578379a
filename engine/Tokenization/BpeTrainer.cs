using System.Runtime.InteropServices;
using System.Text;

namespace DistillSpec.Tokenization;

/// <summary>
/// Trains a GPT-2 style byte-level BPE: text is cut into words by the same pre-tokenizer the loader builds for
/// a ByteLevel tokenizer.json (special tokens first, then the GPT-2 regex), words are counted, and the most
/// frequent adjacent pair of symbols is merged until the vocabulary is full. Merging only revisits the words
/// that hold the merged pair, so a merge costs the size of those words, not of the corpus.
/// Ties between equally frequent pairs go to the smaller (left id, right id): byte tokens have ids in byte
/// order and merged tokens in creation order, so the result does not depend on the order text was added in.
/// </summary>
public sealed class BpeTrainer
{
    public const string EndOfText = "<|endoftext|>";

    private readonly string[] _specialTokens;
    private readonly AddedTokenSplitter _specialSplitter;
    private readonly Dictionary<string, long> _wordCounts = new(StringComparer.Ordinal);

    /// <param name="specialTokens">Kept whole, never merged with text, and given the last ids; default &lt;|endoftext|&gt;.</param>
    public BpeTrainer(IReadOnlyList<string>? specialTokens = null)
    {
        _specialTokens = (specialTokens ?? [EndOfText]).Distinct().ToArray();
        if (_specialTokens.Any(string.IsNullOrEmpty)) throw new ArgumentException("Special tokens must not be empty.", nameof(specialTokens));
        _specialSplitter = new AddedTokenSplitter(_specialTokens.Select((t, i) => new AddedToken(t, i, Special: true)).ToList());
    }

    /// <summary>Distinct pre-tokenized words seen so far.</summary>
    public int DistinctWords => _wordCounts.Count;

    /// <summary>Counts the words of <paramref name="text"/>; special tokens in it separate words and are not counted.</summary>
    public void AddText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var counts = _wordCounts.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var (section, special) in _specialSplitter.Split(text))
        {
            if (special is not null) continue;
            foreach (var (offset, length) in PreTokenizerChain.Gpt2.Matches(section))
                CollectionsMarshal.GetValueRefOrAddDefault(counts, section.AsSpan(offset, length), out _)++;
        }
    }

    /// <summary>
    /// Learns merges until the vocabulary (256 byte tokens + merged tokens + special tokens) has
    /// <paramref name="vocabSize"/> entries, or no pair occurs <paramref name="minPairCount"/> times any more.
    /// </summary>
    public TrainedBpe Train(int vocabSize, int minPairCount = 2)
    {
        int minimum = 256 + _specialTokens.Length;
        if (vocabSize < minimum)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, $"A byte-level vocabulary with {_specialTokens.Length} special tokens needs at least {minimum} entries.");
        ArgumentOutOfRangeException.ThrowIfLessThan(minPairCount, 1);

        var merger = new PairMerger(_wordCounts);
        merger.MergeUntil(vocabSize - _specialTokens.Length, minPairCount);
        return new TrainedBpe([.. merger.TokenTexts, .. _specialTokens], merger.Merges, _specialTokens);
    }

    /// <summary>The merge loop over words stored as symbol-id arrays, with counts of every adjacent pair.</summary>
    private sealed class PairMerger
    {
        private readonly int[][] _words;
        private readonly int[] _lengths;
        private readonly long[] _counts;
        // Which merge last visited a word, so a word listed twice under one pair is merged once.
        private readonly int[] _visitedBy;

        private readonly List<byte[]> _tokenBytes = [];
        private readonly Dictionary<string, int> _tokenIds = new(StringComparer.Ordinal);
        private readonly Dictionary<long, long> _pairCounts = [];
        // Words that held the pair when it was listed; a word may have lost it since, so each is re-checked.
        private readonly Dictionary<long, List<int>> _pairWords = [];
        // Entries go stale when a count changes; the current count is always re-pushed, and stale ones are skipped.
        private readonly PriorityQueue<long, (long Count, long Pair)> _queue = new(MostFrequentFirst.Instance);
        private readonly HashSet<long> _merged = [];
        private readonly Dictionary<long, long> _deltas = [];

        public List<string> TokenTexts { get; } = [];
        public List<(string, string)> Merges { get; } = [];

        public PairMerger(Dictionary<string, long> wordCounts)
        {
            for (int b = 0; b < 256; b++) AddToken([(byte)b]);

            var words = new List<int[]>(wordCounts.Count);
            var counts = new List<long>(wordCounts.Count);
            foreach (var (word, count) in wordCounts)
            {
                byte[] utf8 = Encoding.UTF8.GetBytes(word);
                if (utf8.Length < 2) continue;
                words.Add(Array.ConvertAll(utf8, b => (int)b));
                counts.Add(count);
            }
            _words = words.ToArray();
            _counts = counts.ToArray();
            _lengths = Array.ConvertAll(_words, w => w.Length);
            _visitedBy = new int[_words.Length];
            Array.Fill(_visitedBy, -1);

            for (int w = 0; w < _words.Length; w++)
            {
                int[] s = _words[w];
                for (int i = 0; i + 1 < s.Length; i++)
                {
                    long pair = Pair(s[i], s[i + 1]);
                    CollectionsMarshal.GetValueRefOrAddDefault(_pairCounts, pair, out _) += _counts[w];
                    ListWord(pair, w);
                }
            }
            foreach (var (pair, count) in _pairCounts) _queue.Enqueue(pair, (count, pair));
        }

        public void MergeUntil(int tokenCount, int minPairCount)
        {
            while (_tokenBytes.Count < tokenCount && _queue.TryDequeue(out long pair, out var entry))
            {
                if (!_pairCounts.TryGetValue(pair, out long count) || count != entry.Count) continue;
                if (count < minPairCount) break;
                // Only reachable when two merge paths spell the same token; the earlier rule already covers it.
                if (!_merged.Add(pair)) continue;

                int left = (int)(pair >> 32), right = (int)pair;
                byte[] bytes = [.. _tokenBytes[left], .. _tokenBytes[right]];
                // Two merge paths can spell the same token ("ab"+"c", "a"+"bc"): the second reuses its id.
                if (!_tokenIds.TryGetValue(ByteUnicodeMap.BytesToToken(bytes), out int merged)) merged = AddToken(bytes);
                Merges.Add((TokenTexts[left], TokenTexts[right]));
                Apply(pair, left, right, merged);
            }
        }

        private int AddToken(byte[] bytes)
        {
            string text = ByteUnicodeMap.BytesToToken(bytes);
            int id = _tokenBytes.Count;
            _tokenBytes.Add(bytes);
            _tokenIds.Add(text, id);
            TokenTexts.Add(text);
            return id;
        }

        /// <summary>Rewrites every word holding (left, right) with <paramref name="merged"/> and updates the pair counts.</summary>
        private void Apply(long pair, int left, int right, int merged)
        {
            int stamp = Merges.Count;
            List<int> holders = _pairWords[pair];
            _pairWords.Remove(pair);
            _pairCounts.Remove(pair);
            _deltas.Clear();

            foreach (int w in holders)
            {
                if (_visitedBy[w] == stamp) continue;
                _visitedBy[w] = stamp;
                int[] s = _words[w];
                int n = _lengths[w];
                if (!Holds(s, n, left, right)) continue;

                long c = _counts[w];
                for (int i = 0; i + 1 < n; i++) AddDelta(Pair(s[i], s[i + 1]), -c);
                int m = 0;
                for (int i = 0; i < n; m++)
                {
                    if (i + 1 < n && s[i] == left && s[i + 1] == right) { s[m] = merged; i += 2; }
                    else s[m] = s[i++];
                }
                _lengths[w] = m;
                for (int i = 0; i + 1 < m; i++)
                {
                    long p = Pair(s[i], s[i + 1]);
                    AddDelta(p, c);
                    if (s[i] == merged || s[i + 1] == merged) ListWord(p, w);
                }
            }

            foreach (var (p, delta) in _deltas)
            {
                if (delta == 0 || p == pair) continue;
                ref long count = ref CollectionsMarshal.GetValueRefOrAddDefault(_pairCounts, p, out _);
                count += delta;
                if (count > 0) _queue.Enqueue(p, (count, p));
                else _pairCounts.Remove(p);
            }
        }

        private static bool Holds(int[] s, int n, int left, int right)
        {
            for (int i = 0; i + 1 < n; i++)
                if (s[i] == left && s[i + 1] == right) return true;
            return false;
        }

        private void AddDelta(long pair, long delta) => CollectionsMarshal.GetValueRefOrAddDefault(_deltas, pair, out _) += delta;

        private void ListWord(long pair, int w)
        {
            ref List<int>? list = ref CollectionsMarshal.GetValueRefOrAddDefault(_pairWords, pair, out _);
            list ??= [];
            if (list.Count == 0 || list[^1] != w) list.Add(w);
        }

        private static long Pair(int left, int right) => ((long)left << 32) | (uint)right;
    }

    private sealed class MostFrequentFirst : IComparer<(long Count, long Pair)>
    {
        public static readonly MostFrequentFirst Instance = new();

        public int Compare((long Count, long Pair) x, (long Count, long Pair) y) =>
            x.Count != y.Count ? y.Count.CompareTo(x.Count) : x.Pair.CompareTo(y.Pair);
    }
}

/// <summary>A trained byte-level BPE: tokens in id order (GPT-2 byte alphabet, special tokens last) and merges by priority.</summary>
public sealed record TrainedBpe(IReadOnlyList<string> Tokens, IReadOnlyList<(string Left, string Right)> Merges, IReadOnlyList<string> SpecialTokens)
{
    public int VocabSize => Tokens.Count;

    /// <summary>Writes the Hugging Face files that <see cref="TextTokenizer.Load"/> reads; the first special token becomes BOS/EOS.</summary>
    public void Save(string directory) => HfTokenizerFiles.WriteByteLevelBpe(directory, Tokens, Merges, SpecialTokens);
}
