using System.Text;

namespace DistillSpec.Tokenization;

/// <summary>
/// Reads the piece list (text and type) out of a SentencePiece ModelProto. Microsoft.ML.Tokenizers encodes
/// with the model but does not expose piece types, and decoding needs them: byte pieces become raw bytes,
/// control pieces become nothing.
/// </summary>
internal static class SentencePieceModelReader
{
    public enum PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 }

    public readonly record struct Piece(string Text, PieceType Type);

    private const int WireVarint = 0, WireFixed64 = 1, WireLengthDelimited = 2, WireFixed32 = 5;
    private const int ModelPiecesField = 1, PieceTextField = 1, PieceTypeField = 3;

    public static List<Piece> ReadPieces(ReadOnlySpan<byte> model)
    {
        var pieces = new List<Piece>();
        int pos = 0;
        while (pos < model.Length)
        {
            var (field, wire) = ReadTag(model, ref pos);
            if (field == ModelPiecesField && wire == WireLengthDelimited)
                pieces.Add(ReadPiece(ReadLengthDelimited(model, ref pos)));
            else
                Skip(model, ref pos, wire);
        }
        return pieces;
    }

    private static Piece ReadPiece(ReadOnlySpan<byte> message)
    {
        string text = "";
        var type = PieceType.Normal; // proto2 default
        int pos = 0;
        while (pos < message.Length)
        {
            var (field, wire) = ReadTag(message, ref pos);
            if (field == PieceTextField && wire == WireLengthDelimited)
                text = Encoding.UTF8.GetString(ReadLengthDelimited(message, ref pos));
            else if (field == PieceTypeField && wire == WireVarint)
                type = (PieceType)(int)ReadVarint(message, ref pos);
            else
                Skip(message, ref pos, wire);
        }
        return new Piece(text, type);
    }

    private static (int Field, int Wire) ReadTag(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong tag = ReadVarint(data, ref pos);
        return ((int)(tag >> 3), (int)(tag & 7));
    }

    private static ReadOnlySpan<byte> ReadLengthDelimited(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong length = ReadVarint(data, ref pos);
        if (length > (ulong)(data.Length - pos)) throw Corrupt();
        var slice = data.Slice(pos, (int)length);
        pos += (int)length;
        return slice;
    }

    private static void Skip(ReadOnlySpan<byte> data, ref int pos, int wire)
    {
        switch (wire)
        {
            case WireVarint: ReadVarint(data, ref pos); break;
            case WireFixed64: pos += 8; break;
            case WireLengthDelimited: ReadLengthDelimited(data, ref pos); break;
            case WireFixed32: pos += 4; break;
            default: throw Corrupt();
        }
        if (pos > data.Length) throw Corrupt();
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int pos)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (pos >= data.Length) throw Corrupt();
            byte b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw Corrupt();
    }

    private static InvalidDataException Corrupt() => new("The SentencePiece model is not a valid ModelProto.");
}
