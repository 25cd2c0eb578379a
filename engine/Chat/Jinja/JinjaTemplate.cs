namespace DistillSpec.Chat.Jinja;

/// <summary>A parsed template, rendered any number of times with different variables (thread-safe: rendering keeps no state here).</summary>
internal sealed class JinjaTemplate
{
    private readonly IReadOnlyList<Stmt> _program;

    /// <summary>Parses <paramref name="source"/>; syntax errors are a <see cref="ChatTemplateException"/> naming line and column.</summary>
    public JinjaTemplate(string source) => _program = Parser.Parse(source);

    /// <summary>Renders with the given variables (already template values: see <see cref="Values"/>).</summary>
    public string Render(IReadOnlyDictionary<string, object?> variables, DateTimeOffset now)
    {
        var globals = new Scope(null);
        Globals.AddTo(globals, now);
        var scope = new Scope(globals);
        foreach (var (name, value) in variables) scope.Set(name, value);
        return new Interpreter().Render(_program, scope);
    }
}
