namespace DistillSpec.Chat.Jinja;

/// <summary>Python's arithmetic, comparison and membership operators on template values.</summary>
internal static class Operators
{
    public static object? Binary(string op, object? a, object? b)
    {
        if (op == "~") return Values.ToStr(a) + Values.ToStr(b);
        if (a is Undefined ua) throw new JinjaError(ua.Description);
        if (b is Undefined ub) throw new JinjaError(ub.Description);
        if (Values.IsNumber(a) && Values.IsNumber(b)) return Arithmetic(op, a, b);
        return (op, a, b) switch
        {
            ("+", string s, string t) => s + t,
            ("+", List<object?> l, List<object?> m) => l.Concat(m).ToList(),
            ("*", string s, long or bool) => Repeat(s, Values.ToLong(b)),
            ("*", long or bool, string s) => Repeat(s, Values.ToLong(a)),
            ("*", List<object?> l, long or bool) => Enumerable.Repeat(l, (int)Math.Max(0, Values.ToLong(b))).SelectMany(x => x).ToList(),
            _ => throw new JinjaError($"unsupported operand type(s) for {op}: '{Values.TypeName(a)}' and '{Values.TypeName(b)}'"),
        };
    }

    private static object Arithmetic(string op, object? a, object? b)
    {
        bool integral = a is not double && b is not double;
        if (integral)
        {
            long x = Values.ToLong(a), y = Values.ToLong(b);
            switch (op)
            {
                case "+": return x + y;
                case "-": return x - y;
                case "*": return x * y;
                case "/": return y == 0 ? throw ZeroDivision() : (double)x / y;
                case "//": return y == 0 ? throw ZeroDivision() : FloorDiv(x, y);
                case "%": return y == 0 ? throw ZeroDivision() : x - (y * FloorDiv(x, y));
                case "**": return y >= 0 ? (object)IntPow(x, y) : Math.Pow(x, y);
            }
        }
        double p = Values.ToDouble(a), q = Values.ToDouble(b);
        return op switch
        {
            "+" => p + q,
            "-" => p - q,
            "*" => p * q,
            "/" => q == 0 ? throw ZeroDivision() : p / q,
            "//" => q == 0 ? throw ZeroDivision() : Math.Floor(p / q),
            "%" => q == 0 ? throw ZeroDivision() : p - (q * Math.Floor(p / q)),
            "**" => Math.Pow(p, q),
            _ => throw new JinjaError($"unknown operator {op}"),
        };
    }

    public static object Negate(object? v) => v switch
    {
        long n => (object)(-n),
        double d => -d,
        bool b => b ? -1L : 0L,
        Undefined u => throw new JinjaError(u.Description),
        _ => throw new JinjaError($"bad operand type for unary -: '{Values.TypeName(v)}'"),
    };

    public static bool Compare(string op, object? a, object? b) => op switch
    {
        "==" => Values.AreEqual(a, b),
        "!=" => !Values.AreEqual(a, b),
        "<" => Values.Compare(a, b) < 0,
        "<=" => Values.Compare(a, b) <= 0,
        ">" => Values.Compare(a, b) > 0,
        ">=" => Values.Compare(a, b) >= 0,
        "in" => Contains(b, a),
        "not in" => !Contains(b, a),
        _ => throw new JinjaError($"unknown comparison {op}"),
    };

    public static bool Contains(object? container, object? item) => container switch
    {
        string s => item is string sub ? s.Contains(sub, StringComparison.Ordinal)
            : throw new JinjaError($"'in <string>' requires string as left operand, not {Values.TypeName(item)}"),
        List<object?> l => l.Any(x => Values.AreEqual(x, item)),
        Dict d => item is string key && d.ContainsKey(key),
        Namespace ns => item is string key && ns.Attributes.ContainsKey(key),
        Undefined => false,
        _ => throw new JinjaError($"argument of type '{Values.TypeName(container)}' is not iterable"),
    };

    private static long FloorDiv(long x, long y)
    {
        long q = x / y;
        return (x % y != 0) && ((x < 0) != (y < 0)) ? q - 1 : q;
    }

    private static long IntPow(long x, long y)
    {
        long result = 1;
        while (y > 0)
        {
            if ((y & 1) == 1) result = checked(result * x);
            y >>= 1;
            if (y > 0) x = checked(x * x);
        }
        return result;
    }

    private static string Repeat(string s, long n) => n <= 0 ? "" : string.Concat(Enumerable.Repeat(s, (int)n));

    private static JinjaError ZeroDivision() => new("division by zero");
}
