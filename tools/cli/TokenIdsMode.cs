using System.Text.Encodings.Web;
using System.Text.Json;
using DistillSpec.Tokenization;

namespace DistillSpec.Cli;

/// <summary>
/// `tokenize --ids`: text to ids (or, with --decode, ids to text) on stdout, one JSON value per input,
/// so results can be compared line by line with another tokenizer.
/// </summary>
internal static class TokenIdsMode
{
    private static readonly JsonSerializerOptions s_json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="prompt">-p: one text (or, with --decode, one JSON array of ids).</param>
    /// <param name="jsonl">--jsonl: a file of JSON strings (or, with --decode, JSON arrays), one per line.</param>
    public static int Run(string modelDir, string? prompt, string? jsonl, bool special, bool decode)
    {
        if ((prompt is null) == (jsonl is null))
            throw new ArgumentException("--ids needs exactly one of -p TEXT or --jsonl FILE");
        TextTokenizer tokenizer = TextTokenizer.Load(modelDir);
        using var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false };
        if (prompt is not null)
        {
            output.WriteLine(Convert(tokenizer, prompt, decode, special, "-p"));
            return 0;
        }
        int number = 0;
        foreach (string line in File.ReadLines(jsonl!))
        {
            number++;
            if (line.Length == 0) continue;
            output.WriteLine(Convert(tokenizer, ParseLine(line, decode, $"{jsonl}:{number}"), decode, special, $"{jsonl}:{number}"));
        }
        return 0;
    }

    private static string ParseLine(string line, bool decode, string where)
    {
        if (decode) return line; // an id array, parsed by Convert
        try
        {
            return JsonSerializer.Deserialize<string>(line) ?? throw new FormatException($"{where}: expected a JSON string, got null");
        }
        catch (JsonException e)
        {
            throw new FormatException($"{where}: expected a JSON string ({e.Message})");
        }
    }

    private static string Convert(TextTokenizer tokenizer, string input, bool decode, bool special, string where)
    {
        if (!decode)
        {
            int[] ids = special ? tokenizer.EncodeWithSpecialTokens(input) : tokenizer.Encode(input, addBos: false);
            return JsonSerializer.Serialize(ids);
        }
        int[]? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<int[]>(input);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{where}: expected a JSON array of token ids ({e.Message})");
        }
        if (parsed is null) throw new FormatException($"{where}: expected a JSON array of token ids, got null");
        foreach (int id in parsed)
            if (id < 0 || id >= tokenizer.VocabSize) throw new FormatException($"{where}: token id {id} is outside [0, {tokenizer.VocabSize})");
        return JsonSerializer.Serialize(tokenizer.Decode(parsed), s_json);
    }
}
