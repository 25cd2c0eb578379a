namespace DistillSpec.Chat.Jinja;

internal enum TokenKind
{
    Text,
    VariableStart,
    VariableEnd,
    BlockStart,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
    End,
}

/// <summary>A place in the template text, 1-based, for error messages.</summary>
internal readonly record struct SourcePos(int Line, int Column);

internal readonly record struct Token(TokenKind Kind, string Value, SourcePos Pos)
{
    public bool Is(TokenKind kind, string value) => Kind == kind && Value == value;

    public bool IsName(string name) => Is(TokenKind.Name, name);

    public bool IsOperator(string op) => Is(TokenKind.Operator, op);
}
