namespace DistillSpec.Formats.Gguf;

/// <summary>
/// Hugging Face Llama checkpoints rotate pairs (i, i + headDim/2) of each head (rotate-half);
/// llama.cpp's "llama" architecture rotates adjacent pairs (2i, 2i + 1). Reordering the rows of
/// q_proj and k_proj inside each head, as convert_hf_to_gguf.py does (reshape to
/// (heads, 2, headDim/2, in) and swap axes 1 and 2), makes the two give the same attention scores.
/// </summary>
public static class RopePermutation
{
    /// <summary>Rotate-half row order to interleaved. w is (heads * headDim, columns); a bias has columns = 1.</summary>
    public static float[] ToInterleaved(ReadOnlySpan<float> w, int heads, int headDim, int columns) =>
        Permute(w, heads, headDim, columns, toInterleaved: true);

    /// <summary>The inverse of <see cref="ToInterleaved"/>.</summary>
    public static float[] ToRotateHalf(ReadOnlySpan<float> w, int heads, int headDim, int columns) =>
        Permute(w, heads, headDim, columns, toInterleaved: false);

    // Interleaved row 2j + s of a head holds rotate-half row s * headDim/2 + j.
    private static float[] Permute(ReadOnlySpan<float> w, int heads, int headDim, int columns, bool toInterleaved)
    {
        if (headDim % 2 != 0) throw new ArgumentException($"head dimension must be even, got {headDim}", nameof(headDim));
        if (w.Length != heads * headDim * columns)
            throw new ArgumentException($"expected {heads} x {headDim} rows of {columns} values, got {w.Length} values", nameof(w));
        var result = new float[w.Length];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
            for (int j = 0; j < half; j++)
                for (int s = 0; s < 2; s++)
                {
                    int interleaved = h * headDim + 2 * j + s, rotateHalf = h * headDim + s * half + j;
                    var (from, to) = toInterleaved ? (rotateHalf, interleaved) : (interleaved, rotateHalf);
                    w.Slice(from * columns, columns).CopyTo(result.AsSpan(to * columns, columns));
                }
        return result;
    }
}
