using System.Globalization;
using System.Runtime.CompilerServices;

namespace DistillSpec.Chat.Jinja;

/// <summary>
/// Recursive-descent parser over the lexer's tokens, with Jinja's precedence (lowest first): conditional
/// <c>x if c else y</c>, <c>or</c>, <c>and</c>, <c>not</c>, comparisons and <c>in</c>, <c>+ -</c>, <c>~</c>,
/// <c>* / // %</c>, <c>**</c>, unary <c>- +</c>, then postfix (<c>.attr</c>, <c>[i]</c>, <c>[a:b]</c>, calls) and the
/// filter/test chain (<c>| f</c>, <c>is t</c>), which binds tightest: <c>a + b | trim</c> trims only b.
/// </summary>
internal sealed class Parser
{
    private static readonly HashSet<string> s_compareOps = ["==", "!=", "<", "<=", ">", ">="];

    private readonly List<Token> _tokens;
    private int _i;

    private Parser(List<Token> tokens) => _tokens = tokens;

    public static IReadOnlyList<Stmt> Parse(string source)
    {
        var parser = new Parser(Lexer.Tokenize(source));
        try
        {
            return parser.ParseBody(out _);
        }
        catch (InsufficientExecutionStackException)
        {
            throw parser.Error("the template nests blocks or expressions too deeply", parser.Current);
        }
    }

    private Token Current => _tokens[_i];

    private Token Next() => _tokens[_i++];

    /// <summary>
    /// Statements until end of input or a block tag whose keyword is not a statement of its own (endif, else...),
    /// which is left consumed up to its keyword and returned in <paramref name="stop"/> for the caller to check.
    /// </summary>
    private List<Stmt> ParseBody(out string? stop, params string[] stops)
    {
        var body = new List<Stmt>();
        while (true)
        {
            Token t = Next();
            switch (t.Kind)
            {
                case TokenKind.End:
                    if (stops.Length > 0) throw Error($"the template ended while looking for {string.Join(" or ", stops.Select(s => $"'{s}'"))}", t);
                    stop = null;
                    return body;
                case TokenKind.Text:
                    body.Add(new TextStmt(t.Pos, t.Value));
                    break;
                case TokenKind.VariableStart:
                    body.Add(new OutputStmt(t.Pos, ParseExpression()));
                    Expect(TokenKind.VariableEnd, "'}}'");
                    break;
                case TokenKind.BlockStart:
                    Token keyword = Current;
                    if (keyword.Kind != TokenKind.Name) throw Error("expected a statement name after '{%'", keyword);
                    if (stops.Contains(keyword.Value))
                    {
                        _i++;
                        stop = keyword.Value;
                        return body;
                    }
                    body.Add(ParseStatement());
                    break;
                default:
                    throw Error("unexpected token", t);
            }
        }
    }

    private Stmt ParseStatement()
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        Token keyword = Next();
        switch (keyword.Value)
        {
            case "if": return ParseIf(keyword);
            case "for": return ParseFor(keyword);
            case "set": return ParseSet(keyword);
            case "macro": return ParseMacro(keyword);
            case "filter":
            {
                FilterExpr filter = ParseFilter(new LiteralExpr(keyword.Pos, null));
                EndTag();
                List<Stmt> body = ParseBody(out _, "endfilter");
                EndTag();
                return new FilterBlockStmt(keyword.Pos, filter, body);
            }
            case "generation":
            {
                // Hugging Face's marker for assistant-token masks; it renders its body unchanged.
                EndTag();
                List<Stmt> body = ParseBody(out _, "endgeneration");
                EndTag();
                return new BlockStmt(keyword.Pos, body);
            }
            case "break":
                EndTag();
                return new BreakStmt(keyword.Pos);
            case "continue":
                EndTag();
                return new ContinueStmt(keyword.Pos);
            case "elif" or "else" or "endif" or "endfor" or "endset" or "endmacro" or "endfilter" or "endgeneration":
                throw Error($"unexpected '{keyword.Value}' with no matching block open", keyword);
            default:
                throw Error($"unknown statement '{keyword.Value}' (supported: if, for, set, macro, filter, break, continue, generation, raw)", keyword);
        }
    }

    private IfStmt ParseIf(Token keyword)
    {
        var branches = new List<(Expr, IReadOnlyList<Stmt>)>();
        Expr condition = ParseExpression();
        while (true)
        {
            EndTag();
            List<Stmt> body = ParseBody(out string? stop, "elif", "else", "endif");
            branches.Add((condition, body));
            if (stop == "elif")
            {
                condition = ParseExpression();
                continue;
            }
            List<Stmt> otherwise = [];
            if (stop == "else")
            {
                EndTag();
                otherwise = ParseBody(out _, "endif");
            }
            EndTag();
            return new IfStmt(keyword.Pos, branches, otherwise);
        }
    }

    private ForStmt ParseFor(Token keyword)
    {
        Target target = ParseAssignTarget(allowAttribute: false);
        ExpectName("in");
        Expr iterable = ParseConditionalFree();
        Expr? filter = null;
        if (Current.IsName("if"))
        {
            _i++;
            filter = ParseExpression();
        }
        if (Current.IsName("recursive")) throw Error("recursive for loops are not supported", Current);
        EndTag();
        List<Stmt> body = ParseBody(out string? stop, "else", "endfor");
        List<Stmt> otherwise = [];
        if (stop == "else")
        {
            EndTag();
            otherwise = ParseBody(out _, "endfor");
        }
        EndTag();
        return new ForStmt(keyword.Pos, target, iterable, filter, body, otherwise);
    }

    private Stmt ParseSet(Token keyword)
    {
        Target target = ParseAssignTarget(allowAttribute: true);
        if (Current.IsOperator("="))
        {
            _i++;
            Expr value = ParseTupleOrExpression();
            EndTag();
            return new SetStmt(keyword.Pos, target, value);
        }
        var filters = new List<FilterExpr>();
        while (Current.IsOperator("|"))
        {
            _i++;
            filters.Add(ParseFilter(new LiteralExpr(Current.Pos, null)));
        }
        EndTag();
        List<Stmt> body = ParseBody(out _, "endset");
        EndTag();
        return new SetBlockStmt(keyword.Pos, target, filters, body);
    }

    private MacroStmt ParseMacro(Token keyword)
    {
        string name = ExpectName().Value;
        Expect(TokenKind.Operator, "'('", "(");
        var parameters = new List<(string, Expr?)>();
        while (!Current.IsOperator(")"))
        {
            if (parameters.Count > 0) Expect(TokenKind.Operator, "','", ",");
            if (Current.IsOperator(")")) break;
            string param = ExpectName().Value;
            Expr? def = null;
            if (Current.IsOperator("="))
            {
                _i++;
                def = ParseExpression();
            }
            parameters.Add((param, def));
        }
        _i++;
        EndTag();
        List<Stmt> body = ParseBody(out _, "endmacro");
        if (Current.Kind == TokenKind.Name && Current.Value == name) _i++;
        EndTag();
        return new MacroStmt(keyword.Pos, name, parameters, body);
    }

    private Target ParseAssignTarget(bool allowAttribute)
    {
        Token first = ExpectName();
        if (allowAttribute && Current.IsOperator("."))
        {
            _i++;
            return new AttributeTarget(first.Pos, first.Value, ExpectName().Value);
        }
        if (!Current.IsOperator(",")) return new NameTarget(first.Pos, first.Value);
        var names = new List<string> { first.Value };
        while (Current.IsOperator(","))
        {
            _i++;
            names.Add(ExpectName().Value);
        }
        return new TupleTarget(first.Pos, names);
    }

    /// <summary><c>a, b</c> without brackets is a tuple on the right of <c>set</c>.</summary>
    private Expr ParseTupleOrExpression()
    {
        Expr first = ParseExpression();
        if (!Current.IsOperator(",")) return first;
        var items = new List<Expr> { first };
        while (Current.IsOperator(","))
        {
            _i++;
            items.Add(ParseExpression());
        }
        return new ListExpr(first.Pos, items);
    }

    public Expr ParseExpression()
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        Expr value = ParseOr();
        while (Current.IsName("if"))
        {
            Token ifToken = Next();
            Expr condition = ParseOr();
            Expr? otherwise = null;
            if (Current.IsName("else"))
            {
                _i++;
                otherwise = ParseExpression();
            }
            value = new ConditionalExpr(ifToken.Pos, condition, value, otherwise);
        }
        return value;
    }

    /// <summary>The iterable of a for loop, where a trailing <c>if</c> is the loop filter, not a conditional.</summary>
    private Expr ParseConditionalFree() => ParseOr();

    private Expr ParseOr() => ParseLeftAssociative(ParseAnd, "or");

    private Expr ParseAnd() => ParseLeftAssociative(ParseNot, "and");

    private Expr ParseNot()
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        if (!Current.IsName("not")) return ParseCompare();
        Token op = Next();
        return new UnaryExpr(op.Pos, "not", ParseNot());
    }

    private Expr ParseCompare()
    {
        Expr first = ParseAdd();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            string op;
            if (Current.Kind == TokenKind.Operator && s_compareOps.Contains(Current.Value)) op = Next().Value;
            else if (Current.IsName("in")) op = Next().Value;
            else if (Current.IsName("not") && _tokens[_i + 1].IsName("in"))
            {
                _i += 2;
                op = "not in";
            }
            else break;
            rest.Add((op, ParseAdd()));
        }
        return rest.Count == 0 ? first : new CompareExpr(first.Pos, first, rest);
    }

    private Expr ParseAdd() => ParseLeftAssociative(ParseConcat, "+", "-");

    private Expr ParseConcat() => ParseLeftAssociative(ParseMultiply, "~");

    private Expr ParseMultiply() => ParseLeftAssociative(ParsePower, "*", "/", "//", "%");

    private Expr ParsePower() => ParseLeftAssociative(() => ParseUnary(), "**");

    /// <summary><c>a op b op c</c> as <c>(a op b) op c</c>, for the operators of one precedence level.</summary>
    private Expr ParseLeftAssociative(Func<Expr> operand, params string[] ops)
    {
        Expr left = operand();
        while (Current.Kind is TokenKind.Operator or TokenKind.Name && ops.Contains(Current.Value))
        {
            Token op = Next();
            left = new BinaryExpr(op.Pos, op.Value, left, operand());
        }
        return left;
    }

    /// <summary>As Jinja: the sign applies before the filters, so <c>-3 | abs</c> is 3.</summary>
    private Expr ParseUnary(bool withFilters = true)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        Expr node;
        if (Current.IsOperator("-") || Current.IsOperator("+"))
        {
            Token op = Next();
            node = new UnaryExpr(op.Pos, op.Value, ParseUnary(withFilters: false));
        }
        else
        {
            node = ParsePostfix(ParsePrimary());
        }
        return withFilters ? ParseFilterChain(node) : node;
    }

    private Expr ParsePrimary()
    {
        Token t = Next();
        switch (t.Kind)
        {
            case TokenKind.String:
            {
                // Adjacent string literals concatenate, as in Python.
                string value = t.Value;
                while (Current.Kind == TokenKind.String) value += Next().Value;
                return new LiteralExpr(t.Pos, value);
            }
            case TokenKind.Integer:
                return long.TryParse(t.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long n)
                    ? new LiteralExpr(t.Pos, n)
                    : throw Error($"the integer {t.Value} is too large", t);
            case TokenKind.Float:
                return new LiteralExpr(t.Pos, double.Parse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture));
            case TokenKind.Name:
                return t.Value switch
                {
                    "true" or "True" => new LiteralExpr(t.Pos, true),
                    "false" or "False" => new LiteralExpr(t.Pos, false),
                    "none" or "None" => new LiteralExpr(t.Pos, null),
                    _ => new NameExpr(t.Pos, t.Value),
                };
            case TokenKind.Operator when t.Value == "(":
            {
                if (Current.IsOperator(")"))
                {
                    _i++;
                    return new ListExpr(t.Pos, []);
                }
                Expr inner = ParseExpression();
                if (Current.IsOperator(","))
                {
                    var items = new List<Expr> { inner };
                    while (Current.IsOperator(","))
                    {
                        _i++;
                        if (Current.IsOperator(")")) break;
                        items.Add(ParseExpression());
                    }
                    inner = new ListExpr(t.Pos, items);
                }
                Expect(TokenKind.Operator, "')'", ")");
                return inner;
            }
            case TokenKind.Operator when t.Value == "[":
            {
                var items = new List<Expr>();
                while (!Current.IsOperator("]"))
                {
                    if (items.Count > 0) Expect(TokenKind.Operator, "','", ",");
                    if (Current.IsOperator("]")) break;
                    items.Add(ParseExpression());
                }
                _i++;
                return new ListExpr(t.Pos, items);
            }
            case TokenKind.Operator when t.Value == "{":
            {
                var items = new List<(Expr, Expr)>();
                while (!Current.IsOperator("}"))
                {
                    if (items.Count > 0) Expect(TokenKind.Operator, "','", ",");
                    if (Current.IsOperator("}")) break;
                    Expr key = ParseExpression();
                    Expect(TokenKind.Operator, "':'", ":");
                    items.Add((key, ParseExpression()));
                }
                _i++;
                return new DictExpr(t.Pos, items);
            }
            default:
                throw Error(t.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd or TokenKind.End ? "expected an expression" : $"unexpected '{t.Value}'", t);
        }
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            if (Current.IsOperator("."))
            {
                Token dot = Next();
                Token name = Next();
                node = name.Kind switch
                {
                    TokenKind.Name => new AttributeExpr(dot.Pos, node, name.Value),
                    TokenKind.Integer => new ItemExpr(dot.Pos, node, new LiteralExpr(name.Pos, long.Parse(name.Value, CultureInfo.InvariantCulture))),
                    _ => throw Error("expected an attribute name after '.'", name),
                };
            }
            else if (Current.IsOperator("["))
            {
                node = ParseSubscript(node, Next());
            }
            else if (Current.IsOperator("("))
            {
                _i++;
                var (args, kwargs) = ParseArguments();
                node = new CallExpr(node.Pos, node, args, kwargs);
            }
            else
            {
                return node;
            }
        }
    }

    private Expr ParseSubscript(Expr node, Token open)
    {
        Expr? start = null, stop = null, step = null;
        if (!Current.IsOperator(":")) start = ParseExpression();
        if (!Current.IsOperator(":"))
        {
            Expect(TokenKind.Operator, "']'", "]");
            return new ItemExpr(open.Pos, node, start!);
        }
        _i++;
        if (!Current.IsOperator(":") && !Current.IsOperator("]")) stop = ParseExpression();
        if (Current.IsOperator(":"))
        {
            _i++;
            if (!Current.IsOperator("]")) step = ParseExpression();
        }
        Expect(TokenKind.Operator, "']'", "]");
        return new SliceExpr(open.Pos, node, start, stop, step);
    }

    /// <summary>Call arguments after '(' up to and including ')': positional, then <c>name=value</c>.</summary>
    private (List<Expr>, List<(string, Expr)>) ParseArguments()
    {
        var args = new List<Expr>();
        var kwargs = new List<(string, Expr)>();
        while (!Current.IsOperator(")"))
        {
            if (args.Count + kwargs.Count > 0) Expect(TokenKind.Operator, "','", ",");
            if (Current.IsOperator(")")) break;
            if (Current.Kind == TokenKind.Name && _tokens[_i + 1].IsOperator("="))
            {
                string name = Next().Value;
                _i++;
                kwargs.Add((name, ParseExpression()));
            }
            else
            {
                if (kwargs.Count > 0) throw Error("a positional argument follows a keyword argument", Current);
                args.Add(ParseExpression());
            }
        }
        _i++;
        return (args, kwargs);
    }

    private Expr ParseFilterChain(Expr node)
    {
        while (true)
        {
            if (Current.IsOperator("|"))
            {
                _i++;
                node = ParseFilter(node);
            }
            else if (Current.IsName("is"))
            {
                node = ParseTest(node, Next());
            }
            else
            {
                return node;
            }
        }
    }

    private FilterExpr ParseFilter(Expr operand)
    {
        Token name = ExpectName();
        if (!Current.IsOperator("(")) return new FilterExpr(name.Pos, operand, name.Value, [], []);
        _i++;
        var (args, kwargs) = ParseArguments();
        return new FilterExpr(name.Pos, operand, name.Value, args, kwargs);
    }

    private TestExpr ParseTest(Expr operand, Token isToken)
    {
        bool negated = false;
        if (Current.IsName("not"))
        {
            _i++;
            negated = true;
        }
        Token name = ExpectName();
        if (Current.IsOperator("("))
        {
            _i++;
            var (args, kwargs) = ParseArguments();
            if (kwargs.Count > 0) throw Error("tests take no keyword arguments", name);
            return new TestExpr(isToken.Pos, operand, name.Value, args, negated);
        }
        // `x is divisibleby 3`, `x is equalto 'a'`: one argument without brackets.
        bool takesArgument = Current.Kind is TokenKind.String or TokenKind.Integer or TokenKind.Float
            || Current.IsOperator("[") || Current.IsOperator("{")
            || (Current.Kind == TokenKind.Name && Current.Value is not ("else" or "or" or "and" or "if" or "is" or "in" or "not"));
        if (!takesArgument) return new TestExpr(isToken.Pos, operand, name.Value, [], negated);
        Expr arg = ParsePostfix(ParsePrimary());
        return new TestExpr(isToken.Pos, operand, name.Value, [arg], negated);
    }

    private void EndTag() => Expect(TokenKind.BlockEnd, "'%}'");

    private Token Expect(TokenKind kind, string what, string? value = null)
    {
        Token t = Current;
        if (t.Kind != kind || (value is not null && t.Value != value))
            throw Error($"expected {what} but found {Describe(t)}", t);
        _i++;
        return t;
    }

    private Token ExpectName(string? name = null)
    {
        Token t = Current;
        if (t.Kind != TokenKind.Name || (name is not null && t.Value != name))
            throw Error($"expected {(name is null ? "a name" : $"'{name}'")} but found {Describe(t)}", t);
        _i++;
        return t;
    }

    private static string Describe(Token t) => t.Kind switch
    {
        TokenKind.End => "the end of the template",
        TokenKind.BlockEnd => "'%}'",
        TokenKind.VariableEnd => "'}}'",
        TokenKind.Text => "text",
        TokenKind.String => "a string",
        _ => $"'{t.Value}'",
    };

    private ChatTemplateException Error(string message, Token at) => new(message, at.Pos.Line, at.Pos.Column);
}
