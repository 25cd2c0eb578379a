namespace DistillSpec.Models.Architectures;

/// <summary>
/// One tensor as a checkpoint format stores it, tied to the ModelWeights arrays it holds: Export
/// builds the stored row-major values from our arrays, Import writes stored values back. Direct
/// names the one array whose layout is the stored one, so a loader can read into it without a copy.
/// </summary>
internal sealed record StoredTensor(string Name, int[] Shape, Func<float[]> Export, Action<float[]> Import)
{
    public float[]? Direct { get; init; }

    /// <summary>
    /// Where each of our matrices lies in a stored matrix, row by row (null when rows do not map to rows,
    /// as in a transposed tensor). A loader can then copy a quantized tensor's rows as stored, blocks and all.
    /// </summary>
    public IReadOnlyList<RowSource>? Rows { get; init; }

    public long ElementCount => Shape.Aggregate(1L, (n, d) => n * d);

    /// <summary>A tensor stored exactly as our array holds it.</summary>
    public static StoredTensor Same(string name, float[] data, params int[] shape) =>
        new(name, shape, () => data, stored => stored.CopyTo(data, 0)) { Direct = data, Rows = shape.Length == 2 ? [new RowSource(data, 0, null)] : null };

    /// <summary>A same-layout tensor that only some configs have.</summary>
    public static IEnumerable<StoredTensor> Optional(string name, float[]? data, params int[] shape) =>
        data is null ? [] : [Same(name, data, shape)];

    /// <summary>Several (rows, cols) matrices stacked along rows into one (Σrows, cols) tensor: fused qkv, gate_up, a fused bias.</summary>
    public static StoredTensor Stacked(string name, int cols, params float[][] parts)
    {
        int rows = parts.Sum(p => p.Length) / cols;
        return new(name, cols == 1 ? [rows] : [rows, cols],
            () => parts.SelectMany(p => p).ToArray(),
            stored =>
            {
                int at = 0;
                foreach (var p in parts) { Array.Copy(stored, at, p, 0, p.Length); at += p.Length; }
            }) { Rows = cols == 1 ? null : StackedRows(parts, cols) };
    }

    private static RowSource[] StackedRows(float[][] parts, int cols)
    {
        var rows = new RowSource[parts.Length];
        for (int i = 0, first = 0; i < parts.Length; first += parts[i].Length / cols, i++) rows[i] = new RowSource(parts[i], first, null);
        return rows;
    }

    /// <summary>
    /// Our (rows, cols) matrix stored transposed, as (cols, rows): GPT-2's Conv1D weights. With
    /// several parts, they are stacked along our rows first, then transposed (GPT-2's c_attn).
    /// </summary>
    public static StoredTensor Transposed(string name, int cols, params float[][] parts)
    {
        int rows = parts.Sum(p => p.Length) / cols;
        return new(name, [cols, rows],
            () => Transpose(parts.SelectMany(p => p).ToArray(), rows, cols),
            stored =>
            {
                var ours = Transpose(stored, cols, rows);
                int at = 0;
                foreach (var p in parts) { Array.Copy(ours, at, p, 0, p.Length); at += p.Length; }
            });
    }

    /// <summary>
    /// Our value with its rows reordered on the way out (and back on the way in): llama.cpp's rope order.
    /// fromStored maps the stored values of shape to ours; on a column of row numbers it yields, for each of our rows, the stored row.
    /// </summary>
    public static StoredTensor Permuted(string name, float[] data, int[] shape, Func<float[], float[]> toStored, Func<float[], int, float[]> fromStored)
    {
        int cols = shape.Length == 2 ? shape[1] : 1;
        return new(name, shape, () => toStored(data), stored => fromStored(stored, cols).CopyTo(data, 0))
        {
            Rows = shape.Length == 2 ? [new RowSource(data, 0, Array.ConvertAll(fromStored(Enumerable.Range(0, shape[0]).Select(r => (float)r).ToArray(), 1), r => (int)r))] : null,
        };
    }

    // (rows, cols) -> (cols, rows)
    private static float[] Transpose(float[] source, int rows, int cols)
    {
        var t = new float[source.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                t[c * rows + r] = source[r * cols + c];
        return t;
    }
}

/// <summary>Our matrix Ours is rows [First, First + its rows) of a stored matrix, in the stored order, or, with Order, our row r is stored row First + Order[r].</summary>
internal sealed record RowSource(float[] Ours, int First, int[]? Order);
