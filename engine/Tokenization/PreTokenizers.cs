using System.Text;

namespace DistillSpec.Tokenization;

/// <summary>One step of a tokenizer.json pre-tokenizer: splits (and may rewrite) each piece of the previous step.</summary>
internal abstract class PreTokenizerStep
{
    /// <param name="section">Index of the stretch of text between added tokens (Metaspace's "first" scheme needs it).</param>
    public abstract void Split(string piece, int section, List<string> output);
}

/// <summary>The pre-tokenizer section; a Sequence's steps each run over all pieces of the step before.</summary>
internal sealed class PreTokenizerChain(IReadOnlyList<PreTokenizerStep> steps)
{
    // GPT-2's split, used by ByteLevel with use_regex (ECMAScript \s, as in the reference).
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private static readonly Lazy<JsRegex> s_gpt2 = new(() => new JsRegex(Gpt2Pattern));
    // The reference's Punctuation set: \p{P} plus every ASCII symbol.
    private const string Punctuation = @"\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E";

    public static JsRegex Gpt2 => s_gpt2.Value;

    public IReadOnlyList<PreTokenizerStep> Steps => steps;

    public static PreTokenizerChain Gpt2ByteLevel() => new([new ByteLevelStep(addPrefixSpace: false, s_gpt2.Value)]);

    public List<string> Run(string text, int section)
    {
        var pieces = new List<string> { text };
        foreach (PreTokenizerStep step in steps)
        {
            var next = new List<string>(pieces.Count * 2);
            foreach (string piece in pieces) step.Split(piece, section, next);
            pieces = next;
        }
        return pieces;
    }

    public static PreTokenizerChain? Create(JsonSection? section)
    {
        if (section is not JsonSection n) return null;
        var steps = new List<PreTokenizerStep>();
        Add(n, steps);
        return new PreTokenizerChain(steps);
    }

    private static void Add(JsonSection n, List<PreTokenizerStep> steps)
    {
        switch (n.Type)
        {
            case "Sequence":
                foreach (JsonSection child in n.Objects("pretokenizers")) Add(child, steps);
                break;
            case "Split":
                steps.Add(new SplitStep(n.Pattern("pattern"), ParseBehavior(n), n.Bool("invert", false)));
                break;
            case "ByteLevel":
                steps.Add(new ByteLevelStep(n.Bool("add_prefix_space", false), n.Bool("use_regex", true) ? s_gpt2.Value : null));
                break;
            case "Metaspace":
                steps.Add(MetaspaceStep.Create(n));
                break;
            // The reference spells these as match-only regexes; so do we, to split exactly where it does.
            case "Digits":
                steps.Add(new MatchesStep(new JsRegex(n.Bool("individual_digits", false) ? @"[^\d]+|\d" : @"[^\d]+|\d+")));
                break;
            case "Punctuation":
                steps.Add(new MatchesStep(new JsRegex($"[^{Punctuation}]+|[{Punctuation}]+")));
                break;
            case "Whitespace":
                steps.Add(new MatchesStep(new JsRegex(@"\w+|[^\w\s]+", unicode: false)));
                break;
            case "WhitespaceSplit":
                steps.Add(new MatchesStep(new JsRegex(@"\S+", unicode: false)));
                break;
            case var other:
                throw n.Unsupported($"pre-tokenizer type \"{other}\"");
        }
    }

    private static SplitBehavior ParseBehavior(JsonSection n) => n.OptionalString("behavior") switch
    {
        null or "Isolated" => SplitBehavior.Isolated,
        "Removed" => SplitBehavior.Removed,
        "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
        "MergedWithNext" => SplitBehavior.MergedWithNext,
        "Contiguous" => SplitBehavior.Contiguous,
        var other => throw n.Unsupported($"Split behavior \"{other}\""),
    };
}

internal enum SplitBehavior { Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous }

/// <summary>
/// Hugging Face's Split: the text becomes alternating delimiter and non-delimiter stretches (matches are the
/// delimiters, or with invert the non-delimiters), then the behaviour decides what happens to the delimiters.
/// </summary>
internal sealed class SplitStep(JsRegex pattern, SplitBehavior behavior, bool invert) : PreTokenizerStep
{
    /// <summary>The regex, when the step is a plain isolating split (what GGUF's pre-tokenizer names describe); else null.</summary>
    public string? IsolatingPattern => behavior == SplitBehavior.Isolated && !invert ? pattern.Pattern : null;

    public override void Split(string piece, int section, List<string> output)
    {
        var stretches = new List<(int Start, int End, bool Delimiter)>();
        int pos = 0;
        foreach (var (start, length) in pattern.Matches(piece))
        {
            if (length == 0) continue;
            if (start > pos) stretches.Add((pos, start, invert));
            stretches.Add((start, start + length, !invert));
            pos = start + length;
        }
        if (pos < piece.Length) stretches.Add((pos, piece.Length, invert));

        foreach (var (start, end) in Apply(stretches)) output.Add(piece[start..end]);
    }

    private List<(int Start, int End)> Apply(List<(int Start, int End, bool Delimiter)> stretches)
    {
        var pieces = new List<(int Start, int End)>(stretches.Count);
        bool previousDelimiter = false;
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                foreach (var s in stretches) pieces.Add((s.Start, s.End));
                break;
            case SplitBehavior.Removed:
                foreach (var s in stretches) if (!s.Delimiter) pieces.Add((s.Start, s.End));
                break;
            case SplitBehavior.MergedWithPrevious:
                foreach (var s in stretches)
                {
                    if (s.Delimiter && !previousDelimiter && pieces.Count > 0) pieces[^1] = (pieces[^1].Start, s.End);
                    else pieces.Add((s.Start, s.End));
                    previousDelimiter = s.Delimiter;
                }
                break;
            case SplitBehavior.MergedWithNext:
                for (int i = stretches.Count - 1; i >= 0; i--)
                {
                    var s = stretches[i];
                    if (s.Delimiter && !previousDelimiter && pieces.Count > 0) pieces[^1] = (s.Start, pieces[^1].End);
                    else pieces.Add((s.Start, s.End));
                    previousDelimiter = s.Delimiter;
                }
                pieces.Reverse();
                break;
            case SplitBehavior.Contiguous:
                for (int i = 0; i < stretches.Count; i++)
                {
                    var s = stretches[i];
                    if (i > 0 && s.Delimiter == previousDelimiter) pieces[^1] = (pieces[^1].Start, s.End);
                    else pieces.Add((s.Start, s.End));
                    previousDelimiter = s.Delimiter;
                }
                break;
        }
        return pieces;
    }
}

/// <summary>Keeps only the (non-empty) matches of a pattern.</summary>
internal sealed class MatchesStep(JsRegex pattern) : PreTokenizerStep
{
    public override void Split(string piece, int section, List<string> output)
    {
        foreach (var (start, length) in pattern.Matches(piece))
            if (length > 0) output.Add(piece.Substring(start, length));
    }
}

/// <summary>GPT-2's byte-level step: optional split, then every UTF-8 byte spelled as one printable char.</summary>
internal sealed class ByteLevelStep(bool addPrefixSpace, JsRegex? split) : PreTokenizerStep
{
    public JsRegex? SplitPattern => split;

    public override void Split(string piece, int section, List<string> output)
    {
        // The reference adds the space to every piece that reaches this step, not only the first.
        if (addPrefixSpace && !piece.StartsWith(' ')) piece = " " + piece;
        if (split is null)
        {
            output.Add(ToByteChars(piece));
            return;
        }
        foreach (var (start, length) in split.Matches(piece))
            if (length > 0) output.Add(ToByteChars(piece.Substring(start, length)));
    }

    internal static string ToByteChars(string text) =>
        string.Create(Encoding.UTF8.GetByteCount(text), text, static (chars, t) =>
        {
            Span<byte> bytes = chars.Length <= 512 ? stackalloc byte[chars.Length] : new byte[chars.Length];
            Encoding.UTF8.GetBytes(t, bytes);
            for (int i = 0; i < chars.Length; i++) chars[i] = ByteUnicodeMap.ToChar(bytes[i]);
        });
}

/// <summary>SentencePiece's whitespace convention: spaces become ▁ and a ▁ is put in front of the text.</summary>
internal sealed class MetaspaceStep(string replacement, bool prepend, bool firstOnly) : PreTokenizerStep
{
    public static MetaspaceStep Create(JsonSection n)
    {
        string replacement = n.OptionalString("replacement") ?? "\u2581";
        string scheme = n.OptionalString("prepend_scheme") ?? "always";
        if (scheme is not ("always" or "first" or "never")) throw n.Unsupported($"Metaspace prepend_scheme \"{scheme}\"");
        return new MetaspaceStep(replacement, Prepends(n), scheme == "first");
    }

    /// <summary>Whether a Metaspace section (pre-tokenizer or decoder) puts a ▁ in front of the text.</summary>
    public static bool Prepends(JsonSection n) =>
        // Files from tokenizers 0.19 on drop add_prefix_space in favour of prepend_scheme.
        n.Has("add_prefix_space") ? n.Bool("add_prefix_space", true) : (n.OptionalString("prepend_scheme") ?? "always") != "never";

    public override void Split(string piece, int section, List<string> output)
    {
        string replaced = piece.Replace(" ", replacement, StringComparison.Ordinal);
        if (prepend && !replaced.StartsWith(replacement, StringComparison.Ordinal) && (!firstOnly || section == 0))
            replaced = replacement + replaced;
        output.Add(replaced);
    }
}
