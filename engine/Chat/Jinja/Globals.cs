namespace DistillSpec.Chat.Jinja;

/// <summary>The functions a chat template can call by name, as Hugging Face's renderer provides them.</summary>
internal static class Globals
{
    /// <summary>Most items <c>range()</c> makes: a bound on what a template can ask for, not a Jinja rule.</summary>
    private const long MaxRange = 1_000_000;

    public static void AddTo(Scope scope, DateTimeOffset now)
    {
        scope.Set("raise_exception", new Callable(a => throw new JinjaError(Values.ToStr(a.Get(0, "message")), raisedByTemplate: true)));
        scope.Set("strftime_now", new Callable(a => Strftime.Format(now, Methods.Str(a.Get(0, "format")))));
        scope.Set("range", new Callable(Range));
        scope.Set("namespace", new Callable(a => MakeNamespace(a)));
        scope.Set("dict", new Callable(a =>
        {
            var d = new Dict();
            foreach (var (k, v) in a.Keywords) d[k] = v;
            return d;
        }));
    }

    private static List<object?> Range(Arguments a)
    {
        long start = 0, stop, step = 1;
        switch (a.Positional.Count)
        {
            case 1: stop = Values.ToLong(a.Positional[0]); break;
            case 2: start = Values.ToLong(a.Positional[0]); stop = Values.ToLong(a.Positional[1]); break;
            case 3: start = Values.ToLong(a.Positional[0]); stop = Values.ToLong(a.Positional[1]); step = Values.ToLong(a.Positional[2]); break;
            default: throw new JinjaError($"range expected 1 to 3 arguments, got {a.Positional.Count}");
        }
        if (step == 0) throw new JinjaError("range() step must not be zero");
        long count = step > 0 ? Math.Max(0, (stop - start + step - 1) / step) : Math.Max(0, (start - stop - step - 1) / -step);
        if (count > MaxRange) throw new JinjaError($"range() of {count} items is more than the {MaxRange} a template may make");
        var items = new List<object?>((int)count);
        for (long i = 0; i < count; i++) items.Add(start + (i * step));
        return items;
    }

    /// <summary><c>namespace(a=1)</c> or <c>namespace(some_dict, b=2)</c>.</summary>
    private static Namespace MakeNamespace(Arguments a)
    {
        var ns = new Namespace();
        if (a.Positional.Count > 1) throw new JinjaError($"namespace() takes at most 1 positional argument, got {a.Positional.Count}");
        if (a.Positional.Count == 1)
        {
            if (a.Positional[0] is not Dict initial) throw new JinjaError($"namespace() needs a mapping, not {Values.TypeName(a.Positional[0])}");
            foreach (var (k, v) in initial) ns.Attributes[k] = v;
        }
        foreach (var (k, v) in a.Keywords) ns.Attributes[k] = v;
        return ns;
    }
}
