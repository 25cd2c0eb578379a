using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace DistillSpec.Tokenization;

/// <summary>
/// Hugging Face style pre-tokenization: added tokens are cut out first and kept whole, then each remaining
/// span is split by a sequence of regexes with "Isolated" behaviour (matches and the gaps between them both
/// become pieces, so no text is ever lost even if a pattern does not cover everything).
/// </summary>
internal sealed class HfPreTokenizer : PreTokenizer
{
    /// <summary>The split used by GPT-2's ByteLevel pre-tokenizer (use_regex = true).</summary>
    public const string Gpt2Pattern =
        @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private readonly Regex? _addedTokens;
    private readonly IReadOnlyList<Regex> _splits;

    public HfPreTokenizer(IEnumerable<string> addedTokens, IReadOnlyList<Regex> splits)
    {
        // Longest first so that the alternation behaves like leftmost-longest matching.
        var alternatives = addedTokens.Where(t => t.Length > 0).Distinct()
            .OrderByDescending(t => t.Length).Select(Regex.Escape).ToList();
        _addedTokens = alternatives.Count == 0 ? null : new Regex(string.Join("|", alternatives), RegexOptions.CultureInvariant);
        _splits = splits;
    }

    public static Regex CreateSplit(string pattern) =>
        new(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => PreTokenize(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text)
    {
        var result = new List<(int Offset, int Length)>();
        if (_addedTokens is null)
        {
            SplitPlain(text, 0, text.Length, result);
            return result;
        }
        int pos = 0;
        foreach (ValueMatch m in _addedTokens.EnumerateMatches(text))
        {
            SplitPlain(text, pos, m.Index - pos, result);
            result.Add((m.Index, m.Length));
            pos = m.Index + m.Length;
        }
        SplitPlain(text, pos, text.Length - pos, result);
        return result;
    }

    private void SplitPlain(ReadOnlySpan<char> text, int offset, int length, List<(int Offset, int Length)> output)
    {
        if (length == 0) return;
        var pieces = new List<(int Offset, int Length)> { (offset, length) };
        foreach (Regex split in _splits)
        {
            var next = new List<(int Offset, int Length)>(pieces.Count * 2);
            foreach (var (start, len) in pieces)
            {
                int pos = start;
                // Each piece is matched on its own, as HF does, so lookarounds cannot see neighbouring pieces.
                foreach (ValueMatch m in split.EnumerateMatches(text.Slice(start, len)))
                {
                    if (m.Length == 0) continue;
                    int matchStart = start + m.Index;
                    if (matchStart > pos) next.Add((pos, matchStart - pos));
                    next.Add((matchStart, m.Length));
                    pos = matchStart + m.Length;
                }
                if (pos < start + len) next.Add((pos, start + len - pos));
            }
            pieces = next;
        }
        output.AddRange(pieces);
    }
}
