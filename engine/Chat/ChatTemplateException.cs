namespace DistillSpec.Chat;

/// <summary>
/// A chat template that cannot be loaded, parsed or rendered: malformed Jinja, something the renderer does not
/// support, a type error at render time, or a <c>raise_exception(...)</c> the template itself called (for example
/// when roles do not alternate). <see cref="Line"/> and <see cref="Column"/> point into the template text.
/// </summary>
public sealed class ChatTemplateException : Exception
{
    /// <summary>Creates an error that names no place in the template (for example a missing file).</summary>
    public ChatTemplateException(string message, Exception? inner = null) : base(message, inner) => Reason = message;

    /// <summary>Creates an error at a 1-based line and column of the template text.</summary>
    public ChatTemplateException(string message, int line, int column) : this(message, line, column, "chat template") { }

    private ChatTemplateException(string reason, int line, int column, string origin)
        : base($"{origin} line {line}, column {column}: {reason}")
    {
        Line = line;
        Column = column;
        Reason = reason;
    }

    /// <summary>1-based line in the template text, or 0 when the error is not tied to a place.</summary>
    public int Line { get; }

    /// <summary>1-based column in the template text, or 0 when the error is not tied to a place.</summary>
    public int Column { get; }

    /// <summary>The message without the location: for a <c>raise_exception</c>, the template's own words.</summary>
    public string Reason { get; }

    /// <summary>True when the template called <c>raise_exception(...)</c> itself, so <see cref="Reason"/> is its message.</summary>
    public bool RaisedByTemplate { get; init; }

    /// <summary>The same error, saying which file the template came from.</summary>
    internal ChatTemplateException From(string origin) =>
        Line > 0 ? new ChatTemplateException(Reason, Line, Column, $"chat template from {origin},") { RaisedByTemplate = RaisedByTemplate }
            : new ChatTemplateException($"chat template from {origin}: {Reason}", InnerException);
}
