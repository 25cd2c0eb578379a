using System.Text;

namespace DistillSpec.Tests.Tokenization;

/// <summary>
/// Hand-encodes a SentencePiece ModelProto (field numbers from sentencepiece_model.proto) so tests need no
/// real .model file: varint and length-delimited fields only, plus fixed32 for the float scores.
/// </summary>
internal static class SentencePieceModelWriter
{
    public const int Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Byte = 6;
    private const int ModelTypeBpe = 2;

    public static byte[] Write(IReadOnlyList<(string Piece, float Score, int Type)> pieces,
        int unkId = 0, int bosId = 1, int eosId = 2, int padId = -1, bool addDummyPrefix = true)
    {
        var model = new MemoryStream();
        foreach (var (piece, score, type) in pieces)
        {
            var p = new MemoryStream();
            WriteString(p, 1, piece);
            WriteFloat(p, 2, score);
            WriteInt(p, 3, type);
            WriteMessage(model, 1, p);
        }

        var trainer = new MemoryStream();
        WriteInt(trainer, 3, ModelTypeBpe);
        WriteInt(trainer, 35, 1); // byte_fallback
        WriteInt(trainer, 40, unkId);
        WriteInt(trainer, 41, bosId);
        WriteInt(trainer, 42, eosId);
        WriteInt(trainer, 43, padId);
        WriteMessage(model, 2, trainer);

        var normalizer = new MemoryStream();
        WriteString(normalizer, 1, "identity");
        WriteInt(normalizer, 3, addDummyPrefix ? 1 : 0);
        WriteInt(normalizer, 4, 0); // remove_extra_whitespaces: keep text exactly as Llama-2 does
        WriteInt(normalizer, 5, 1); // escape_whitespaces
        WriteMessage(model, 3, normalizer);
        return model.ToArray();
    }

    /// <summary>Control tokens, the 256 byte pieces (ids 3..258), then <paramref name="words"/> with falling scores.</summary>
    public static List<(string Piece, float Score, int Type)> LlamaStylePieces(IEnumerable<string> words)
    {
        var pieces = new List<(string, float, int)> { ("<unk>", 0, Unknown), ("<s>", 0, Control), ("</s>", 0, Control) };
        for (int b = 0; b < 256; b++) pieces.Add(($"<0x{b:X2}>", 0, Byte));
        float score = 0;
        // In SentencePiece BPE a higher score means an earlier merge.
        foreach (string w in words) pieces.Add((w, score--, Normal));
        return pieces;
    }

    private static void WriteVarint(Stream s, ulong value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        s.WriteByte((byte)value);
    }

    private static void WriteTag(Stream s, int field, int wireType) => WriteVarint(s, (ulong)((field << 3) | wireType));

    // int32 fields sign-extend to 64 bits, so -1 takes ten bytes.
    private static void WriteInt(Stream s, int field, int value)
    {
        WriteTag(s, field, 0);
        WriteVarint(s, (ulong)(long)value);
    }

    private static void WriteFloat(Stream s, int field, float value)
    {
        WriteTag(s, field, 5);
        Span<byte> bytes = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        s.Write(bytes);
    }

    private static void WriteBytes(Stream s, int field, ReadOnlySpan<byte> bytes)
    {
        WriteTag(s, field, 2);
        WriteVarint(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    private static void WriteString(Stream s, int field, string value) => WriteBytes(s, field, Encoding.UTF8.GetBytes(value));

    private static void WriteMessage(Stream s, int field, MemoryStream message) => WriteBytes(s, field, message.ToArray());
}
