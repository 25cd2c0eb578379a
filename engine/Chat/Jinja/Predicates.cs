namespace DistillSpec.Chat.Jinja;

/// <summary>Jinja's tests, the right side of <c>x is defined</c>, <c>x is not none</c>, <c>x is equalto 'a'</c>.</summary>
internal static class Predicates
{
    public static bool Test(string name, object? v, IReadOnlyList<object?> args) => name switch
    {
        "defined" => v is not Undefined,
        "undefined" => v is Undefined,
        "none" => v is null,
        "boolean" => v is bool,
        "true" => v is true,
        "false" => v is false,
        "string" => v is string,
        "number" => v is long or double or bool,
        "integer" => v is long,
        "float" => v is double,
        "mapping" => v is Dict,
        "iterable" => v is string or List<object?> or Dict or Undefined,
        "sequence" => v is string or List<object?> or Dict,
        "callable" => v is Callable,
        "odd" => Integer(v, name) % 2 != 0,
        "even" => Integer(v, name) % 2 == 0,
        "divisibleby" => Integer(v, name) % Integer(Arg(args, name), name) == 0,
        "lower" => v is string s && s == Text.Lower(s),
        "upper" => v is string s && s == Text.Upper(s),
        "equalto" or "eq" or "==" => Values.AreEqual(v, Arg(args, name)),
        "ne" or "!=" => !Values.AreEqual(v, Arg(args, name)),
        "lt" or "lessthan" or "<" => Values.Compare(v, Arg(args, name)) < 0,
        "le" or "<=" => Values.Compare(v, Arg(args, name)) <= 0,
        "gt" or "greaterthan" or ">" => Values.Compare(v, Arg(args, name)) > 0,
        "ge" or ">=" => Values.Compare(v, Arg(args, name)) >= 0,
        "in" => Operators.Contains(Arg(args, name), v),
        "sameas" => ReferenceEquals(v, Arg(args, name)) || (v is null && Arg(args, name) is null) || (v is bool a && Arg(args, name) is bool b && a == b),
        _ => throw new JinjaError($"unknown test '{name}'"),
    };

    private static object? Arg(IReadOnlyList<object?> args, string test) =>
        args.Count > 0 ? args[0] : throw new JinjaError($"the test '{test}' needs an argument");

    private static long Integer(object? v, string test) =>
        v is long or bool ? Values.ToLong(v) : throw new JinjaError($"the test '{test}' needs an integer, got {Values.TypeName(v)}");
}
