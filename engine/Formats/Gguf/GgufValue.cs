using System.Collections;
using System.Globalization;

namespace DistillSpec.Formats.Gguf;

/// <summary>
/// One metadata value with its GGUF type. Scalars are held as the matching CLR type (uint, int,
/// float, bool, string, ...); arrays as a CLR array of one of those, whose type is ElementType.
/// </summary>
public sealed class GgufValue : IEquatable<GgufValue>
{
    private static readonly Dictionary<Type, GgufValueType> s_types = new()
    {
        [typeof(byte)] = GgufValueType.UInt8, [typeof(sbyte)] = GgufValueType.Int8,
        [typeof(ushort)] = GgufValueType.UInt16, [typeof(short)] = GgufValueType.Int16,
        [typeof(uint)] = GgufValueType.UInt32, [typeof(int)] = GgufValueType.Int32,
        [typeof(ulong)] = GgufValueType.UInt64, [typeof(long)] = GgufValueType.Int64,
        [typeof(float)] = GgufValueType.Float32, [typeof(double)] = GgufValueType.Float64,
        [typeof(bool)] = GgufValueType.Bool, [typeof(string)] = GgufValueType.String,
    };

    private GgufValue(GgufValueType type, GgufValueType? elementType, object value)
    {
        Type = type;
        ElementType = elementType;
        Value = value;
    }

    public GgufValueType Type { get; }

    /// <summary>The type of an array's elements; null for scalars.</summary>
    public GgufValueType? ElementType { get; }

    public object Value { get; }

    /// <summary>A scalar (uint, int, float, bool, string, ...) or a one-dimensional array of one of them.</summary>
    public static GgufValue Of(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (s_types.TryGetValue(value.GetType(), out var scalar)) return new GgufValue(scalar, null, value);
        if (value is Array array && array.Rank == 1 && s_types.TryGetValue(value.GetType().GetElementType()!, out var element))
        {
            if (element == GgufValueType.String && ((string?[])array).Contains(null))
                throw new ArgumentException("a GGUF string array cannot hold null", nameof(value));
            return new GgufValue(GgufValueType.Array, element, value);
        }
        throw new ArgumentException($"{value.GetType()} has no GGUF value type", nameof(value));
    }

    public static implicit operator GgufValue(uint v) => Of(v);
    public static implicit operator GgufValue(int v) => Of(v);
    public static implicit operator GgufValue(float v) => Of(v);
    public static implicit operator GgufValue(bool v) => Of(v);
    public static implicit operator GgufValue(string v) => Of(v);
    public static implicit operator GgufValue(string[] v) => Of(v);
    public static implicit operator GgufValue(int[] v) => Of(v);
    public static implicit operator GgufValue(float[] v) => Of(v);

    internal static Type ClrType(GgufValueType type) => s_types.First(p => p.Value == type).Key;

    public bool Equals(GgufValue? other) =>
        other is not null && Type == other.Type && ElementType == other.ElementType
        && StructuralComparisons.StructuralEqualityComparer.Equals(Value, other.Value);

    public override bool Equals(object? obj) => Equals(obj as GgufValue);

    public override int GetHashCode() => HashCode.Combine(Type, ElementType);

    public override string ToString() => Value switch
    {
        Array a => $"{ElementType}[{a.Length}]",
        string s => $"\"{s}\"",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => Value.ToString()!,
    };
}
