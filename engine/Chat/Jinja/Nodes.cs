namespace DistillSpec.Chat.Jinja;

// The syntax tree of a template. Every node keeps the place it came from so errors can name it.

internal abstract record Node(SourcePos Pos);

internal abstract record Stmt(SourcePos Pos) : Node(Pos);

internal sealed record TextStmt(SourcePos Pos, string Text) : Stmt(Pos);

/// <summary><c>{{ expr }}</c>.</summary>
internal sealed record OutputStmt(SourcePos Pos, Expr Value) : Stmt(Pos);

internal sealed record IfStmt(SourcePos Pos, IReadOnlyList<(Expr Condition, IReadOnlyList<Stmt> Body)> Branches, IReadOnlyList<Stmt> Else) : Stmt(Pos);

/// <summary><c>{% for target in iterable if filter %}body{% else %}otherwise{% endfor %}</c>.</summary>
internal sealed record ForStmt(SourcePos Pos, Target Target, Expr Iterable, Expr? Filter, IReadOnlyList<Stmt> Body, IReadOnlyList<Stmt> Else) : Stmt(Pos);

/// <summary><c>{% set target = value %}</c>.</summary>
internal sealed record SetStmt(SourcePos Pos, Target Target, Expr Value) : Stmt(Pos);

/// <summary><c>{% set name | filters %}body{% endset %}</c>: the rendered body, filtered, becomes the value.</summary>
internal sealed record SetBlockStmt(SourcePos Pos, Target Target, IReadOnlyList<FilterExpr> Filters, IReadOnlyList<Stmt> Body) : Stmt(Pos);

internal sealed record MacroStmt(SourcePos Pos, string Name, IReadOnlyList<(string Name, Expr? Default)> Parameters, IReadOnlyList<Stmt> Body) : Stmt(Pos);

/// <summary><c>{% filter name(args) %}body{% endfilter %}</c>; the operand of <see cref="Filter"/> is unused.</summary>
internal sealed record FilterBlockStmt(SourcePos Pos, FilterExpr Filter, IReadOnlyList<Stmt> Body) : Stmt(Pos);

/// <summary>A group of statements rendered in place, e.g. the body of HF's <c>{% generation %}</c> marker.</summary>
internal sealed record BlockStmt(SourcePos Pos, IReadOnlyList<Stmt> Body) : Stmt(Pos);

internal sealed record BreakStmt(SourcePos Pos) : Stmt(Pos);

internal sealed record ContinueStmt(SourcePos Pos) : Stmt(Pos);

/// <summary>What <c>set</c> and <c>for</c> assign to: a name, names unpacked from a sequence, or <c>ns.attr</c>.</summary>
internal abstract record Target(SourcePos Pos) : Node(Pos);

internal sealed record NameTarget(SourcePos Pos, string Name) : Target(Pos);

internal sealed record TupleTarget(SourcePos Pos, IReadOnlyList<string> Names) : Target(Pos);

internal sealed record AttributeTarget(SourcePos Pos, string Object, string Attribute) : Target(Pos);

internal abstract record Expr(SourcePos Pos) : Node(Pos);

internal sealed record LiteralExpr(SourcePos Pos, object? Value) : Expr(Pos);

internal sealed record NameExpr(SourcePos Pos, string Name) : Expr(Pos);

internal sealed record ListExpr(SourcePos Pos, IReadOnlyList<Expr> Items) : Expr(Pos);

internal sealed record DictExpr(SourcePos Pos, IReadOnlyList<(Expr Key, Expr Value)> Items) : Expr(Pos);

/// <summary><c>obj.name</c>: attribute first, then item, as Jinja's getattr.</summary>
internal sealed record AttributeExpr(SourcePos Pos, Expr Object, string Name) : Expr(Pos);

/// <summary><c>obj[key]</c>.</summary>
internal sealed record ItemExpr(SourcePos Pos, Expr Object, Expr Key) : Expr(Pos);

/// <summary><c>obj[start:stop:step]</c>, each part optional.</summary>
internal sealed record SliceExpr(SourcePos Pos, Expr Object, Expr? Start, Expr? Stop, Expr? Step) : Expr(Pos);

internal sealed record CallExpr(SourcePos Pos, Expr Callee, IReadOnlyList<Expr> Args, IReadOnlyList<(string Name, Expr Value)> Kwargs) : Expr(Pos);

/// <summary><c>operand | name(args)</c>.</summary>
internal sealed record FilterExpr(SourcePos Pos, Expr Operand, string Name, IReadOnlyList<Expr> Args, IReadOnlyList<(string Name, Expr Value)> Kwargs) : Expr(Pos);

/// <summary><c>operand is [not] name(args)</c>.</summary>
internal sealed record TestExpr(SourcePos Pos, Expr Operand, string Name, IReadOnlyList<Expr> Args, bool Negated) : Expr(Pos);

/// <summary><c>not</c>, unary <c>-</c> and <c>+</c>.</summary>
internal sealed record UnaryExpr(SourcePos Pos, string Op, Expr Operand) : Expr(Pos);

/// <summary>Arithmetic, <c>~</c>, and the short-circuit <c>and</c>/<c>or</c>.</summary>
internal sealed record BinaryExpr(SourcePos Pos, string Op, Expr Left, Expr Right) : Expr(Pos);

/// <summary><c>a op1 b op2 c</c> as Python chains it: <c>a op1 b and b op2 c</c>. Ops include <c>in</c> and <c>not in</c>.</summary>
internal sealed record CompareExpr(SourcePos Pos, Expr First, IReadOnlyList<(string Op, Expr Operand)> Rest) : Expr(Pos);

/// <summary><c>then if condition else otherwise</c>; a missing else gives undefined.</summary>
internal sealed record ConditionalExpr(SourcePos Pos, Expr Condition, Expr Then, Expr? Else) : Expr(Pos);
