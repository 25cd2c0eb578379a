using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace DistillSpec.Tokenization;

/// <summary>Builds SentencePiece (tokenizer.model, Llama-2 / Mistral style) on Microsoft.ML.Tokenizers.</summary>
internal static class SentencePieceLoader
{
    // What SentencePiece itself prints for the unknown piece.
    private static readonly byte[] s_unknownSurface = Encoding.UTF8.GetBytes(" \u2047 ");

    /// <param name="addedTokens">Tokens from tokenizer_config.json; those past the model's pieces extend the vocabulary.</param>
    public static TokenizerCore Create(byte[] model, IReadOnlyList<AddedToken> addedTokens)
    {
        List<SentencePieceModelReader.Piece> pieces = SentencePieceModelReader.ReadPieces(model);
        var extra = addedTokens.Where(t => t.Id >= pieces.Count).ToList();

        SentencePieceTokenizer sp = SentencePieceTokenizer.Create(
            new MemoryStream(model, writable: false),
            addBeginningOfSentence: false,
            addEndOfSentence: false,
            specialTokens: extra.Count > 0 ? extra.ToDictionary(t => t.Content, t => t.Id) : null);

        bool dropDummyPrefix = sp.AddDummyPrefix && !sp.TreatWhitespaceAsSuffix;
        var table = new TokenTable(Math.Max(pieces.Count, extra.Count == 0 ? 0 : extra.Max(t => t.Id) + 1), leadingSpaces: dropDummyPrefix ? 1 : 0);
        for (int id = 0; id < pieces.Count; id++)
        {
            var (text, type) = pieces[id];
            bool isWord = type is SentencePieceModelReader.PieceType.Normal or SentencePieceModelReader.PieceType.UserDefined;
            table.Set(id, text, PieceBytes(text, type, sp.EscapeWhiteSpaces), strippable: isWord);
        }
        foreach (AddedToken t in extra)
            table.Set(t.Id, t.Content, t.Special ? [] : Encoding.UTF8.GetBytes(t.Content));

        return new TokenizerCore(
            (text, ids) => ids.AddRange(sp.EncodeToIds(text, addBeginningOfSentence: false, addEndOfSentence: false)),
            table,
            ValidId(sp.BeginningOfSentenceId, table),
            ValidId(sp.EndOfSentenceId, table) is int eos ? [eos] : [],
            DefaultAddBos: true);
    }

    private static byte[] PieceBytes(string text, SentencePieceModelReader.PieceType type, bool escapedWhitespace)
    {
        switch (type)
        {
            case SentencePieceModelReader.PieceType.Control:
                return [];
            case SentencePieceModelReader.PieceType.Unknown:
                return s_unknownSurface;
            case SentencePieceModelReader.PieceType.Byte when text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal) && text[5] == '>':
                return [byte.Parse(text.AsSpan(3, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)];
            default:
                return Encoding.UTF8.GetBytes(escapedWhitespace ? text.Replace('\u2581', ' ') : text);
        }
    }

    private static int? ValidId(int id, TokenTable table) => id >= 0 && id < table.Count ? id : null;
}
