namespace DistillSpec.Chat.Jinja;

/// <summary>
/// Variables visible at one point of a render. A for loop and a macro call open a child scope, so a <c>set</c>
/// inside them does not change the outer variable (Jinja's rule, and why templates use <c>namespace()</c>);
/// <c>if</c> opens none.
/// </summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);

    public object? Lookup(string name)
    {
        for (Scope? s = this; s is not null; s = s.Parent)
            if (s._variables.TryGetValue(name, out object? value)) return value;
        return new Undefined($"'{name}' is undefined");
    }

    public void Set(string name, object? value) => _variables[name] = value;

    public Scope? Parent { get; } = parent;
}
