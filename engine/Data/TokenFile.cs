using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;
using DistillSpec.IO;

namespace DistillSpec.Data;

/// <summary>
/// Token ids for training, in the nanoGPT/llm.c spirit: NAME.bin is a flat little-endian array of ids, uint16 while
/// the vocabulary fits and int32 beyond, and NAME.json beside it says how to read it and where it came from.
/// A reader checks the sidecar against the .bin's size and every id against the vocabulary before trusting either.
/// </summary>
public static class TokenFile
{
    public const string Format = "distillspec-tokens";
    public const int Version = 1;

    /// <summary>NAME.json for NAME.bin.</summary>
    public static string HeaderPath(string binPath) => Path.ChangeExtension(binPath, ".json");

    public static TokenDType DTypeFor(int vocabSize) => vocabSize <= 1 << 16 ? TokenDType.UInt16 : TokenDType.Int32;

    public static void Write(string binPath, ReadOnlySpan<int> tokens, TokenFileHeader header)
    {
        using var writer = new TokenFileWriter(binPath, header.VocabSize);
        writer.Append(tokens);
        writer.Complete(header);
    }

    /// <summary>The validated header; the .bin must exist and hold exactly token_count ids of the header's dtype.</summary>
    public static TokenFileHeader ReadHeader(string binPath)
    {
        string headerPath = HeaderPath(binPath);
        if (!File.Exists(headerPath)) throw new TokenFileException(headerPath, $"missing (every token file needs its JSON header beside it)");
        TokenFileHeader? header;
        try { header = JsonSerializer.Deserialize<TokenFileHeader>(File.ReadAllBytes(headerPath), TokenFileHeader.Json); }
        catch (JsonException e) { throw new TokenFileException(headerPath, $"not a token file header: {e.Message}"); }
        if (header is null) throw new TokenFileException(headerPath, "not a token file header: null");
        if (header.Format != Format || header.Version != Version)
            throw new TokenFileException(headerPath, $"format is '{header.Format}' version {header.Version}, expected '{Format}' version {Version}");
        if (header.VocabSize < 1) throw new TokenFileException(headerPath, $"vocab_size must be positive, got {header.VocabSize}");
        if (header.DType != DTypeFor(header.VocabSize))
            throw new TokenFileException(headerPath, $"dtype {Name(header.DType)} does not match vocab_size {header.VocabSize} (expected {Name(DTypeFor(header.VocabSize))})");
        if (header.TokenCount < 0) throw new TokenFileException(headerPath, $"token_count must not be negative, got {header.TokenCount}");

        if (!File.Exists(binPath)) throw new TokenFileException(binPath, "missing (its header exists)");
        long expected = header.TokenCount * header.BytesPerToken, actual = new FileInfo(binPath).Length;
        if (actual != expected)
            throw new TokenFileException(binPath, $"holds {actual} bytes but its header promises {header.TokenCount} {Name(header.DType)} tokens ({expected} bytes)");
        return header;
    }

    public static int[] Read(string binPath) => Read(binPath, out _);

    /// <summary>The name the header uses: uint16 or int32.</summary>
    public static string Name(TokenDType dtype) => dtype == TokenDType.UInt16 ? "uint16" : "int32";

    public static int[] Read(string binPath, out TokenFileHeader header)
    {
        header = ReadHeader(binPath);
        if (header.TokenCount > Array.MaxLength) throw new TokenFileException(binPath, $"{header.TokenCount} tokens do not fit one array");
        byte[] bytes = File.ReadAllBytes(binPath);
        var tokens = new int[header.TokenCount];
        for (int i = 0; i < tokens.Length; i++)
        {
            int id = header.DType == TokenDType.UInt16
                ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(2 * i))
                : BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4 * i));
            if ((uint)id >= (uint)header.VocabSize)
                throw new TokenFileException(binPath, $"token {i} is {id}, outside the vocabulary [0, {header.VocabSize})");
            tokens[i] = id;
        }
        return tokens;
    }
}

[JsonConverter(typeof(JsonStringEnumConverter<TokenDType>))]
public enum TokenDType
{
    [JsonStringEnumMemberName("uint16")] UInt16,
    [JsonStringEnumMemberName("int32")] Int32,
}

/// <summary>The JSON beside a token file. Provenance fields say which corpus and tokenizer made it, to spot stale files.</summary>
public sealed record TokenFileHeader
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string Format { get; init; } = TokenFile.Format;
    public int Version { get; init; } = TokenFile.Version;
    public required int VocabSize { get; init; }
    [JsonPropertyName("dtype")] public TokenDType DType { get; init; }
    public long TokenCount { get; init; }
    /// <summary>The id written after every document.</summary>
    public int? EosId { get; init; }
    public int Documents { get; init; }
    public string? Source { get; init; }
    public string? SourceSha256 { get; init; }
    public string? Tokenizer { get; init; }
    /// <summary>SHA-256 of the tokenizer's tokenizer.json.</summary>
    public string? TokenizerSha256 { get; init; }

    [JsonIgnore] public int BytesPerToken => DType == TokenDType.UInt16 ? 2 : 4;
}

/// <summary>Streams ids to NAME.bin.tmp; <see cref="Complete"/> moves it into place and writes the header last, so a crash leaves no half file behind a valid header.</summary>
public sealed class TokenFileWriter : IDisposable
{
    private readonly string _binPath, _tempPath;
    private readonly int _vocabSize;
    private readonly TokenDType _dtype;
    private FileStream? _stream;
    private byte[] _buffer = [];

    public TokenFileWriter(string binPath, int vocabSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        _binPath = binPath;
        _tempPath = binPath + ".tmp";
        _vocabSize = vocabSize;
        _dtype = TokenFile.DTypeFor(vocabSize);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(binPath));
        if (dir is not null) Directory.CreateDirectory(dir);
        _stream = File.Create(_tempPath);
    }

    public long TokenCount { get; private set; }

    public void Append(ReadOnlySpan<int> tokens)
    {
        if (_stream is null) throw new InvalidOperationException($"Token file {_binPath} is already complete.");
        int size = _dtype == TokenDType.UInt16 ? 2 : 4;
        if (_buffer.Length < tokens.Length * size) _buffer = new byte[Math.Max(tokens.Length * size, 1 << 16)];
        for (int i = 0; i < tokens.Length; i++)
        {
            int id = tokens[i];
            if ((uint)id >= (uint)_vocabSize)
                throw new ArgumentOutOfRangeException(nameof(tokens), id, $"Token {TokenCount + i} for {_binPath} is outside the vocabulary [0, {_vocabSize}).");
            if (size == 2) BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(2 * i), (ushort)id);
            else BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(4 * i), id);
        }
        _stream.Write(_buffer, 0, tokens.Length * size);
        TokenCount += tokens.Length;
    }

    public void Append(int token) => Append([token]);

    /// <summary>Writes the header; its vocabulary size, dtype and token count are taken from this writer.</summary>
    public TokenFileHeader Complete(TokenFileHeader header)
    {
        if (_stream is null) throw new InvalidOperationException($"Token file {_binPath} is already complete.");
        if (header.VocabSize != _vocabSize)
            throw new ArgumentException($"Header vocab_size {header.VocabSize} differs from the writer's {_vocabSize}.", nameof(header));
        _stream.Dispose();
        _stream = null;
        TokenFileHeader final = header with { DType = _dtype, TokenCount = TokenCount };
        File.Delete(TokenFile.HeaderPath(_binPath));
        File.Move(_tempPath, _binPath, overwrite: true);
        AtomicFile.WriteAllBytes(TokenFile.HeaderPath(_binPath), JsonSerializer.SerializeToUtf8Bytes(final, TokenFileHeader.Json));
        return final;
    }

    /// <summary>Without <see cref="Complete"/>, the partial file is deleted.</summary>
    public void Dispose()
    {
        if (_stream is null) return;
        _stream.Dispose();
        _stream = null;
        File.Delete(_tempPath);
    }
}

/// <summary>A token file or its header that cannot be trusted; the message starts with the offending path.</summary>
public sealed class TokenFileException(string path, string problem) : IOException($"{path}: {problem}")
{
    public string Path { get; } = path;
}
