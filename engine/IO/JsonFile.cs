using System.Text.Json;
using DistillSpec.Models;

namespace DistillSpec.IO;

/// <summary>
/// Reading the JSON side files of a model or run directory, where System.Text.Json's own errors
/// name neither the file nor, for a structural mismatch, what was expected: every failure here
/// becomes a ModelFormatException that names the file (and the JSON path System.Text.Json gives).
/// </summary>
public static class JsonFile
{
    public static readonly JsonDocumentOptions Lenient = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    public static JsonDocument Parse(string path, JsonDocumentOptions options = default)
    {
        byte[] bytes = ReadUtf8(path);
        try
        {
            return JsonDocument.Parse(bytes, options);
        }
        catch (JsonException e)
        {
            throw Invalid(path, e);
        }
    }

    /// <summary>A JSON value deserialised as T; null, a missing required field or a type mismatch is an error naming the file.</summary>
    public static T Deserialize<T>(string path, JsonSerializerOptions? options = null) where T : class
    {
        byte[] bytes = ReadUtf8(path);
        try
        {
            return JsonSerializer.Deserialize<T>(bytes, options ?? Strict)
                   ?? throw new ModelFormatException(path, $"holds null, expected {Describe<T>()}");
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"cannot be read{Where(e)}: {FirstSentence(e.Message)}");
        }
    }

    /// <summary>
    /// Runs a reader over an already parsed file, turning the exceptions JsonElement throws on an
    /// unexpected shape (a missing property, a short array, a string where a number belongs, an id past int),
    /// and those a library throws when built from the file's contents (ArgumentException: a bad
    /// regex, a duplicate entry), into an error naming the file.
    /// </summary>
    public static T Guard<T>(string path, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or IndexOutOfRangeException or InvalidOperationException
                                       or FormatException or OverflowException or ArgumentException)
        {
            throw new ModelFormatException(path, $"unexpected structure: {e.Message}");
        }
        catch (NotSupportedException e)
        {
            throw new ModelFormatException(path, e.Message);
        }
    }

    // JsonDocument checks UTF-8 only when a string is read, and then throws InvalidOperationException.
    private static byte[] ReadUtf8(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
            throw new ModelFormatException(path, "not valid UTF-8 text");
        return bytes;
    }

    private static readonly JsonSerializerOptions Strict = new() { RespectNullableAnnotations = true, RespectRequiredConstructorParameters = true };

    private static ModelFormatException Invalid(string path, JsonException e) =>
        new(path, $"not valid JSON{Where(e)}: {FirstSentence(e.Message)}");

    private static string Where(JsonException e) =>
        (e.Path is { Length: > 0 } p ? $" at {p}" : "") + (e.LineNumber is long line ? $" (line {line + 1}, byte {e.BytePositionInLine + 1})" : "");

    // System.Text.Json appends "Path: ... | LineNumber: ..." to its messages, which Where already gives.
    private static string FirstSentence(string message) =>
        message.IndexOf(" Path: ", StringComparison.Ordinal) is int i and > 0 ? message[..i] : message;

    private static string Describe<T>() => typeof(T).IsGenericType ? "a JSON object" : $"a {typeof(T).Name} object";
}
