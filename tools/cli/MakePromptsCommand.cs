using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using DistillSpec.Data;
using DistillSpec.Tokenization;

namespace DistillSpec.Cli;

/// <summary>
/// Cuts held-out (prompt, reference) pairs from a corpus split. A prompt starts at a line (code) or sentence (prose)
/// and ends at one, holding between --min-tokens and --max-tokens tokens; the reference is the text that follows,
/// cut after --reference-tokens tokens. Candidate starts are shuffled by --seed; in rounds over the documents, each
/// document gives its next candidate that overlaps no pair already taken, so the same inputs always give the same
/// file and every document that can give a prompt does before any gives a second. Pairs are written round-robin over
/// documents (every document's first pair in corpus order, then every second pair, ...), so the first N
/// prompts of the file, which is what reproduce and bench-sd take, span as many documents as they can.
/// </summary>
internal static partial class MakePromptsCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "tokenizer directory that token counts are measured with", Required = true };
        var input = new Option<string>("--input", "-i") { Description = "corpus file (documents joined by <|endoftext|>), normally a test split", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "JSONL file of {\"prompt\", \"reference\"} lines", Required = true };
        var count = new Option<int>("--count", "-n") { Description = "number of prompts", DefaultValueFactory = _ => 300 };
        var seed = new Option<int>("--seed", "-s") { Description = "shuffle seed", DefaultValueFactory = _ => 1 };
        var cut = new Option<string>("--cut") { Description = "where prompts start and end: line (code) or sentence (prose)", DefaultValueFactory = _ => "line" };
        cut.AcceptOnlyFromAmong("line", "sentence");
        var minTokens = new Option<int>("--min-tokens") { Description = "shortest prompt", DefaultValueFactory = _ => 32 };
        var maxTokens = new Option<int>("--max-tokens") { Description = "longest prompt", DefaultValueFactory = _ => 64 };
        var referenceTokens = new Option<int>("--reference-tokens") { Description = "reference continuation length", DefaultValueFactory = _ => 64 };
        var command = new Command("make-prompts", "cut a deterministic held-out prompt set from a corpus split")
        {
            model, input, output, count, seed, cut, minTokens, maxTokens, referenceTokens,
        };
        CommonOptions.Check(count, n => n >= 1, "--count must be at least 1");
        CommonOptions.Check(minTokens, n => n >= 1, "--min-tokens must be at least 1");
        CommonOptions.Check(referenceTokens, n => n >= 1, "--reference-tokens must be at least 1");
        command.SetAction(r => CliErrors.Guard(() =>
        {
            if (r.GetValue(maxTokens) < r.GetValue(minTokens)) throw new ArgumentException("--max-tokens must be at least --min-tokens.");
            var tokenizer = TextTokenizer.Load(r.GetValue(model)!);
            var documents = CorpusFile.ReadDocuments(r.GetValue(input)!);
            var lengths = new Lengths(r.GetValue(minTokens), r.GetValue(maxTokens), r.GetValue(referenceTokens));
            var pairs = Select(tokenizer, documents, r.GetValue(cut) == "sentence", lengths, r.GetValue(count), r.GetValue(seed));
            if (pairs.Count < r.GetValue(count))
                throw new InvalidOperationException($"only {pairs.Count} non-overlapping prompts fit in {r.GetValue(input)}, {r.GetValue(count)} were asked for");
            Write(r.GetValue(output)!, pairs);
            Console.WriteLine($"wrote {pairs.Count} prompts from {pairs.Select(p => p.Document).Distinct().Count()} of {documents.Count} documents to {r.GetValue(output)}");
            return 0;
        }));
        return command;
    }

    private sealed record Lengths(int MinPrompt, int MaxPrompt, int Reference);

    private sealed record PromptPair(int Document, int Start, int End, string Prompt, string Reference);

    // A sentence ends at . ? or ! (closing quotes and brackets included) followed by whitespace.
    [GeneratedRegex(@"[.?!][""')\]]*(?=\s)")]
    private static partial Regex SentenceEnd();

    private static List<PromptPair> Select(TextTokenizer tokenizer, IReadOnlyList<string> documents, bool sentences,
        Lengths lengths, int count, int seed)
    {
        var candidates = new List<(int Document, int Start)>();
        var ends = new List<int[]>();
        for (int d = 0; d < documents.Count; d++)
        {
            int[] docEnds = sentences ? SentenceEnds(documents[d]) : LineEnds(documents[d]);
            ends.Add(docEnds);
            foreach (int start in Starts(documents[d], docEnds, sentences)) candidates.Add((d, start));
        }
        // Shuffled by a hash of (seed, document, start) rather than System.Random, whose sequence a runtime may change.
        candidates = candidates.OrderBy(c => SplitMix64(((ulong)(uint)seed << 40) ^ ((ulong)c.Document << 32) ^ (uint)c.Start)).ToList();

        var taken = new List<PromptPair>();
        var usedSpans = documents.Select(_ => new List<(int Start, int End)>()).ToArray();
        // Files can share code (the stdlib's sndhdr.py and imghdr.py do), so the same prompt text is taken once.
        var promptTexts = new HashSet<string>(StringComparer.Ordinal);
        bool TryTake(int d, int start)
        {
            if (usedSpans[d].Any(s => s.Start <= start && start < s.End)) return false;
            if (Cut(tokenizer, documents[d], start, ends[d], lengths) is not var (end, referenceEnd)) return false;
            if (usedSpans[d].Any(s => start < s.End && s.Start < referenceEnd)) return false;
            string text = documents[d];
            if (!promptTexts.Add(text[start..end])) return false;
            usedSpans[d].Add((start, referenceEnd));
            taken.Add(new PromptPair(d, start, end, text[start..end], text[end..referenceEnd]));
            return true;
        }
        // Rounds over the documents, each taking one more pair from every document that has one left, so the
        // set spans every document that can give a prompt rather than mostly the longest ones.
        var queues = candidates.GroupBy(c => c.Document).OrderBy(g => g.Key)
            .Select(g => (Document: g.Key, Starts: new Queue<int>(g.Select(c => c.Start)))).ToList();
        while (taken.Count < count && queues.Count > 0)
        {
            foreach (var (d, starts) in queues)
            {
                if (taken.Count == count) break;
                while (starts.Count > 0 && !TryTake(d, starts.Dequeue())) { }
            }
            queues.RemoveAll(q => q.Starts.Count == 0);
        }
        return taken.GroupBy(p => p.Document)
            .SelectMany(g => g.OrderBy(p => p.Start).Select((p, rank) => (Pair: p, Rank: rank)))
            .OrderBy(x => x.Rank).ThenBy(x => x.Pair.Document).Select(x => x.Pair).ToList();
    }

    /// <summary>The longest prompt from <paramref name="start"/> within the token limits, and where its reference ends.</summary>
    private static (int End, int ReferenceEnd)? Cut(TextTokenizer tokenizer, string text, int start, int[] ends, Lengths lengths)
    {
        int best = -1;
        foreach (int end in ends)
        {
            if (end <= start) continue;
            int tokens = tokenizer.Encode(text[start..end], addBos: false).Length;
            if (tokens > lengths.MaxPrompt) break;
            if (tokens >= lengths.MinPrompt) best = end;
        }
        if (best < 0) return null;

        // Tokens cover at most a few dozen chars each, so this window always holds the whole reference if the text does.
        string rest = text.Substring(best, Math.Min(text.Length - best, lengths.Reference * 64));
        int[] ids = tokenizer.Encode(rest, addBos: false);
        if (ids.Length < lengths.Reference) return null;
        // Back off while the cut splits a character (decoding would then not be a prefix of the text).
        for (int n = lengths.Reference; n > lengths.Reference / 2; n--)
        {
            string reference = tokenizer.Decode(ids.AsSpan(0, n));
            if (rest.StartsWith(reference, StringComparison.Ordinal) && reference.Trim().Length > 0) return (best, best + reference.Length);
        }
        return null;
    }

    private static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
        return x ^ (x >> 31);
    }

    private static int[] LineEnds(string text)
    {
        var ends = new List<int>();
        for (int i = 0; i < text.Length; i++)
            if (text[i] == '\n') ends.Add(i + 1);
        return ends.ToArray();
    }

    private static int[] SentenceEnds(string text)
    {
        var ends = new List<int>();
        foreach (ValueMatch m in SentenceEnd().EnumerateMatches(text)) ends.Add(m.Index + m.Length);
        return ends.ToArray();
    }

    /// <summary>
    /// Prompt starts: for lines, the start of every non-blank line (indentation kept); for sentences, the first
    /// non-blank character after each sentence end.
    /// </summary>
    private static IEnumerable<int> Starts(string text, int[] ends, bool sentences)
    {
        var starts = new SortedSet<int>();
        foreach (int boundary in ends.Prepend(0))
        {
            int s = boundary;
            while (s < text.Length && char.IsWhiteSpace(text[s]) && (sentences || text[s] != '\n')) s++;
            if (s < text.Length && text[s] != '\n') starts.Add(sentences ? s : boundary);
        }
        return starts;
    }

    private static void Write(string path, List<PromptPair> pairs)
    {
        var options = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        IO.AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new System.Text.UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
            foreach (PromptPair p in pairs)
                writer.WriteLine(JsonSerializer.Serialize(new { prompt = p.Prompt, reference = p.Reference, document = p.Document }, options));
        });
    }
}
