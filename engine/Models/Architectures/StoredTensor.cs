namespace DistillSpec.Models.Architectures;

/// <summary>
/// One tensor as a checkpoint format stores it, tied to the ModelWeights arrays it holds: Export
/// builds the stored row-major values from our arrays, Import writes stored values back. Direct
/// names the one array whose layout is the stored one, so a loader can read into it without a copy.
/// </summary>
internal sealed record StoredTensor(string Name, int[] Shape, Func<float[]> Export, Action<float[]> Import)
{
    public float[]? Direct { get; init; }

    public long ElementCount => Shape.Aggregate(1L, (n, d) => n * d);

    /// <summary>A tensor stored exactly as our array holds it.</summary>
    public static StoredTensor Same(string name, float[] data, params int[] shape) =>
        new(name, shape, () => data, stored => stored.CopyTo(data, 0)) { Direct = data };

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
            });
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

    /// <summary>Our value with its rows reordered on the way out (and back on the way in): llama.cpp's rope order.</summary>
    public static StoredTensor Permuted(string name, float[] data, int[] shape, Func<float[], float[]> toStored, Func<float[], float[]> fromStored) =>
        new(name, shape, () => toStored(data), stored => fromStored(stored).CopyTo(data, 0));

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
