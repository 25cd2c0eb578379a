using System.Runtime.CompilerServices;
using System.Text;

namespace DistillSpec.Chat.Jinja;

/// <summary>
/// Walks the syntax tree and writes the output. Value errors (<see cref="JinjaError"/>) become a
/// <see cref="ChatTemplateException"/> at the innermost node that raised them.
/// </summary>
internal sealed class Interpreter
{
    private const int MaxCallDepth = 100;

    private enum Flow { Normal, Break, Continue }

    private int _callDepth;

    public string Render(IReadOnlyList<Stmt> program, Scope globals)
    {
        var output = new StringBuilder();
        if (Execute(program, globals, output) != Flow.Normal)
            throw new ChatTemplateException("'break' or 'continue' outside a for loop");
        return output.ToString();
    }

    private Flow Execute(IReadOnlyList<Stmt> body, Scope scope, StringBuilder output)
    {
        foreach (Stmt stmt in body)
        {
            Flow flow = Execute(stmt, scope, output);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    private Flow Execute(Stmt stmt, Scope scope, StringBuilder output)
    {
        try
        {
            RuntimeHelpers.EnsureSufficientExecutionStack();
        }
        catch (InsufficientExecutionStackException)
        {
            throw Error("the template nests blocks too deeply", stmt.Pos);
        }
        switch (stmt)
        {
            case TextStmt t:
                output.Append(t.Text);
                return Flow.Normal;
            case OutputStmt o:
                output.Append(Values.ToStr(Eval(o.Value, scope)));
                return Flow.Normal;
            case IfStmt s:
                foreach (var (condition, body) in s.Branches)
                    if (Values.IsTrue(Eval(condition, scope))) return Execute(body, scope, output);
                return Execute(s.Else, scope, output);
            case ForStmt f:
                ExecuteFor(f, scope, output);
                return Flow.Normal;
            case SetStmt s:
                Assign(s.Target, Eval(s.Value, scope), scope);
                return Flow.Normal;
            case SetBlockStmt s:
            {
                var captured = new StringBuilder();
                Execute(s.Body, scope, captured);
                object? value = captured.ToString();
                foreach (FilterExpr filter in s.Filters) value = ApplyFilter(filter, value, scope);
                Assign(s.Target, value, scope);
                return Flow.Normal;
            }
            case FilterBlockStmt s:
            {
                var captured = new StringBuilder();
                Execute(s.Body, scope, captured);
                output.Append(Values.ToStr(ApplyFilter(s.Filter, captured.ToString(), scope)));
                return Flow.Normal;
            }
            case MacroStmt m:
                scope.Set(m.Name, MakeMacro(m, scope));
                return Flow.Normal;
            case BlockStmt b:
                return Execute(b.Body, scope, output);
            case BreakStmt:
                return Flow.Break;
            case ContinueStmt:
                return Flow.Continue;
            default:
                throw Error($"cannot run a {stmt.GetType().Name}", stmt.Pos);
        }
    }

    private void ExecuteFor(ForStmt f, Scope scope, StringBuilder output)
    {
        List<object?> source = Guard(f.Iterable.Pos, () => Values.Iterate(Eval(f.Iterable, scope)));
        var loopScope = new Scope(scope);
        var items = new List<object?>(source.Count);
        foreach (object? item in source)
        {
            if (f.Filter is not null)
            {
                Assign(f.Target, item, loopScope);
                if (!Values.IsTrue(Eval(f.Filter, loopScope))) continue;
            }
            items.Add(item);
        }
        if (items.Count == 0)
        {
            Execute(f.Else, scope, output);
            return;
        }
        for (int i = 0; i < items.Count; i++)
        {
            loopScope.Set("loop", LoopInfo(items, i));
            Assign(f.Target, items[i], loopScope);
            if (Execute(f.Body, loopScope, output) == Flow.Break) break;
        }
    }

    private static Dict LoopInfo(List<object?> items, int i)
    {
        int n = items.Count;
        return new Dict
        {
            ["index"] = (long)i + 1,
            ["index0"] = (long)i,
            ["revindex"] = (long)(n - i),
            ["revindex0"] = (long)(n - i - 1),
            ["first"] = i == 0,
            ["last"] = i == n - 1,
            ["length"] = (long)n,
            ["previtem"] = i > 0 ? items[i - 1] : new Undefined("'loop.previtem' is undefined on the first iteration"),
            ["nextitem"] = i < n - 1 ? items[i + 1] : new Undefined("'loop.nextitem' is undefined on the last iteration"),
            ["cycle"] = new Callable(args => args.Positional.Count == 0
                ? throw new JinjaError("loop.cycle() needs at least one value")
                : args.Positional[i % args.Positional.Count]),
        };
    }

    private void Assign(Target target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameTarget n:
                scope.Set(n.Name, value);
                break;
            case TupleTarget t:
            {
                List<object?> parts = Guard(t.Pos, () => Values.Iterate(value));
                if (parts.Count != t.Names.Count)
                    throw Error($"cannot unpack {parts.Count} values into {t.Names.Count} names ({string.Join(", ", t.Names)})", t.Pos);
                for (int i = 0; i < parts.Count; i++) scope.Set(t.Names[i], parts[i]);
                break;
            }
            case AttributeTarget a:
                if (scope.Lookup(a.Object) is not Namespace ns)
                    throw Error($"cannot set '{a.Object}.{a.Attribute}': only a namespace() accepts attribute assignment", a.Pos);
                ns.Attributes[a.Attribute] = value;
                break;
        }
    }

    private Callable MakeMacro(MacroStmt m, Scope definedIn) => args =>
    {
        if (_callDepth >= MaxCallDepth) throw new JinjaError($"macro '{m.Name}' nests deeper than {MaxCallDepth} calls");
        var local = new Scope(definedIn);
        var extraKeywords = new Dict();
        foreach (var (key, value) in args.Keywords)
        {
            if (m.Parameters.Any(p => p.Name == key)) continue;
            extraKeywords[key] = value;
        }
        for (int i = 0; i < m.Parameters.Count; i++)
        {
            var (name, def) = m.Parameters[i];
            object? value = args.Has(i, name) ? args.Get(i, name)
                : def is not null ? Eval(def, local)
                : new Undefined($"'{name}' is undefined: macro '{m.Name}' was called without it");
            local.Set(name, value);
        }
        local.Set("varargs", args.Positional.Skip(m.Parameters.Count).ToList());
        local.Set("kwargs", extraKeywords);
        var output = new StringBuilder();
        _callDepth++;
        try { Execute(m.Body, local, output); }
        finally { _callDepth--; }
        return output.ToString();
    };

    public object? Eval(Expr expr, Scope scope)
    {
        try
        {
            return EvalCore(expr, scope);
        }
        catch (JinjaError e)
        {
            throw new ChatTemplateException(e.Message, expr.Pos.Line, expr.Pos.Column) { RaisedByTemplate = e.RaisedByTemplate };
        }
        catch (InsufficientExecutionStackException)
        {
            throw new ChatTemplateException("the template nests expressions too deeply", expr.Pos.Line, expr.Pos.Column);
        }
        catch (Exception e) when (e is not ChatTemplateException and not OutOfMemoryException)
        {
            throw new ChatTemplateException(e.Message, expr.Pos.Line, expr.Pos.Column);
        }
    }

    private object? EvalCore(Expr expr, Scope scope)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        switch (expr)
        {
            case LiteralExpr l:
                return l.Value;
            case NameExpr n:
                return scope.Lookup(n.Name);
            case ListExpr l:
                return l.Items.Select(i => Eval(i, scope)).ToList();
            case DictExpr d:
            {
                var dict = new Dict();
                foreach (var (k, v) in d.Items)
                    dict[Eval(k, scope) as string ?? throw new JinjaError("dictionary keys must be strings")] = Eval(v, scope);
                return dict;
            }
            case AttributeExpr a:
                return Access.Attribute(Eval(a.Object, scope), a.Name);
            case ItemExpr i:
                return Access.Item(Eval(i.Object, scope), Eval(i.Key, scope));
            case SliceExpr s:
                return Access.Slice(Eval(s.Object, scope), OptionalInt(s.Start, scope), OptionalInt(s.Stop, scope), OptionalInt(s.Step, scope));
            case CallExpr c:
            {
                object? callee = Eval(c.Callee, scope);
                Arguments args = EvalArguments(c.Args, c.Kwargs, scope);
                return callee switch
                {
                    Callable f => f(args),
                    Undefined u => throw new JinjaError(u.Description),
                    _ => throw new JinjaError($"'{Values.TypeName(callee)}' object is not callable"),
                };
            }
            case FilterExpr f:
                return ApplyFilter(f, Eval(f.Operand, scope), scope);
            case TestExpr t:
            {
                object? value = Eval(t.Operand, scope);
                var args = t.Args.Select(a => Eval(a, scope)).ToList();
                return Predicates.Test(t.Name, value, args) != t.Negated;
            }
            case UnaryExpr u:
            {
                object? value = Eval(u.Operand, scope);
                return u.Op switch
                {
                    "not" => !Values.IsTrue(value),
                    "-" => Operators.Negate(value),
                    _ => Values.IsNumber(value) ? (value is bool b ? (b ? 1L : 0L) : value) : throw new JinjaError($"bad operand type for unary +: '{Values.TypeName(value)}'"),
                };
            }
            case BinaryExpr b when b.Op == "and":
            {
                object? left = Eval(b.Left, scope);
                return Values.IsTrue(left) ? Eval(b.Right, scope) : left;
            }
            case BinaryExpr b when b.Op == "or":
            {
                object? left = Eval(b.Left, scope);
                return Values.IsTrue(left) ? left : Eval(b.Right, scope);
            }
            case BinaryExpr b:
                return Operators.Binary(b.Op, Eval(b.Left, scope), Eval(b.Right, scope));
            case CompareExpr c:
            {
                object? left = Eval(c.First, scope);
                foreach (var (op, operand) in c.Rest)
                {
                    object? right = Eval(operand, scope);
                    if (!Operators.Compare(op, left, right)) return false;
                    left = right;
                }
                return true;
            }
            case ConditionalExpr c:
                return Values.IsTrue(Eval(c.Condition, scope))
                    ? Eval(c.Then, scope)
                    : c.Else is null ? new Undefined("the conditional expression had no else branch") : Eval(c.Else, scope);
            default:
                throw new JinjaError($"cannot evaluate a {expr.GetType().Name}");
        }
    }

    private object? ApplyFilter(FilterExpr f, object? value, Scope scope)
    {
        Arguments args = EvalArguments(f.Args, f.Kwargs, scope);
        try
        {
            return Filters.Apply(f.Name, value, args);
        }
        catch (JinjaError e)
        {
            throw new ChatTemplateException(e.Message, f.Pos.Line, f.Pos.Column);
        }
    }

    private Arguments EvalArguments(IReadOnlyList<Expr> args, IReadOnlyList<(string Name, Expr Value)> kwargs, Scope scope)
    {
        if (args.Count == 0 && kwargs.Count == 0) return Arguments.None;
        var positional = args.Select(a => Eval(a, scope)).ToList();
        var keywords = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in kwargs)
            if (!keywords.TryAdd(name, Eval(value, scope))) throw new JinjaError($"keyword argument '{name}' given twice");
        return new Arguments(positional, keywords);
    }

    private long? OptionalInt(Expr? expr, Scope scope)
    {
        if (expr is null) return null;
        return Eval(expr, scope) switch
        {
            null => null,
            long n => n,
            bool b => b ? 1 : 0,
            object v => throw new JinjaError($"slice indices must be integers or None, not {Values.TypeName(v)}"),
        };
    }

    private static T Guard<T>(SourcePos pos, Func<T> action)
    {
        try { return action(); }
        catch (JinjaError e) { throw new ChatTemplateException(e.Message, pos.Line, pos.Column); }
    }

    private static ChatTemplateException Error(string message, SourcePos pos) => new(message, pos.Line, pos.Column);
}
