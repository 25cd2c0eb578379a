using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using DistillSpec.Backends;

namespace DistillSpec.Training;

/// <summary>
/// The matrix product of training: C (m, n) = A · B^T, or C += that. A is (m, k) and B is (n, k),
/// each stored either so (rows run along k, as x and HF's (out, in) weights in x · W^T) or
/// transposed, (k, m) and (k, n), as dy and x in dW = dy^T · x, so no product needs a transpose pass.
/// </summary>
/// <remarks>
/// The Goto/BLIS scheme: per k-block of KC, B is packed into NR-column panels and A into MR-row
/// panels, both k-major, and a register-tile micro-kernel does MR x NR outer products per k
/// (broadcast A, vector B). Packing costs O((m + n) k) next to the O(m n k) product.
/// Every element of C is one chain of FMAs over k in order, started from C (accumulate, or a
/// later k-block) or from 0, whatever tile, panel or thread it falls in; so results are
/// bit-identical across thread counts (resume tests rely on it). Threads split m or n, never k.
/// </remarks>
internal sealed unsafe partial class Gemm(WorkerPool pool) : RangeJob
{
    // Tile and blocks: the B micro-panel (KC x NR, 32 KB) stays in L1 while the A block (MC x KC,
    // 480 KB) is read from L2; the B block (KC x NC) is read from L3 once per A block.
    private static readonly bool Wide = Vector512.IsHardwareAccelerated;
    private static readonly int MR = Wide ? 12 : 6, NR = Wide ? 32 : 16;
    private const int KC = 256, MCPanels = 40, NC = 2048;

    private readonly float[]?[] _packA = new float[pool.Threads][], _packB = new float[pool.Threads][];
    private Operands _op;
    private int _m, _n;
    private bool _byRows;

    /// <summary>
    /// A and B with their row strides and layout: A rows are lda apart, each along k (A (m, k)) or,
    /// when ATransposed, along m (A stored (k, m)); likewise B; C rows are ldc apart.
    /// </summary>
    internal readonly record struct Operands(float[] A, int AOffset, int Lda, bool ATransposed,
        float[] B, int BOffset, int Ldb, bool BTransposed, float[] C, int COffset, int Ldc, int K, bool Accumulate);

    /// <summary>C (m, n) = (or +=) A (m, k) · B (n, k)^T, all dense with offset 0.</summary>
    public void Multiply(float[] a, float[] b, float[] c, int m, int n, int k, bool accumulate) =>
        Multiply(new Operands(a, 0, k, false, b, 0, k, false, c, 0, n, k, accumulate), m, n);

    public void Multiply(in Operands op, int m, int n)
    {
        Check(op, m, n);
        if (m == 0 || n == 0) return;
        if (op.K == 0)
        {
            if (!op.Accumulate) for (int i = 0; i < m; i++) op.C.AsSpan(op.COffset + i * op.Ldc, n).Clear();
            return;
        }
        (_op, _m, _n) = (op, m, n);
        _byRows = m >= n;
        int mr = MR, nr = NR;
        int panels = _byRows ? (m + mr - 1) / mr : (n + nr - 1) / nr;
        long flopsPerPanel = 2L * (_byRows ? mr * (long)n : nr * (long)m) * op.K;
        // At least ~4 MFLOP per part, so small products are not split across threads.
        int minChunk = (int)Math.Clamp(4_000_000 / Math.Max(1, flopsPerPanel), 1, panels);
        pool.For(panels, this, minChunk);
        _op = default;
    }

    public override void Run(int start, int end, int worker)
    {
        if (_byRows) Compute(_op, start * MR, Math.Min(end * MR, _m), 0, _n, ref _packA[worker], ref _packB[worker]);
        else Compute(_op, 0, _m, start * NR, Math.Min(end * NR, _n), ref _packA[worker], ref _packB[worker]);
    }

    [ThreadStatic] private static float[]? t_packA, t_packB;

    /// <summary>The same product on the calling thread, for callers that already split work across threads.</summary>
    public static void MultiplyHere(in Operands op, int m, int n)
    {
        Check(op, m, n);
        if (m == 0 || n == 0) return;
        if (op.K == 0)
        {
            if (!op.Accumulate) for (int i = 0; i < m; i++) op.C.AsSpan(op.COffset + i * op.Ldc, n).Clear();
            return;
        }
        Compute(op, 0, m, 0, n, ref t_packA, ref t_packB);
    }

    // One cheap bounds check per call: the kernels run on raw pointers.
    private static void Check(in Operands op, int m, int n)
    {
        if (m < 0 || n < 0 || op.K < 0) throw new ArgumentOutOfRangeException(nameof(m), $"negative GEMM shape ({m}, {n}, {op.K})");
        if (m == 0 || n == 0) return;
        long aEnd = op.ATransposed ? (long)(op.K - 1) * op.Lda + m : (long)(m - 1) * op.Lda + op.K;
        long bEnd = op.BTransposed ? (long)(op.K - 1) * op.Ldb + n : (long)(n - 1) * op.Ldb + op.K;
        if (op.K > 0 && (op.AOffset < 0 || op.AOffset + aEnd > op.A.Length)) throw new ArgumentException($"A ({op.A.Length} floats) is too small for a ({m}, {op.K}) operand at {op.AOffset}, stride {op.Lda}");
        if (op.K > 0 && (op.BOffset < 0 || op.BOffset + bEnd > op.B.Length)) throw new ArgumentException($"B ({op.B.Length} floats) is too small for a ({n}, {op.K}) operand at {op.BOffset}, stride {op.Ldb}");
        if (op.COffset < 0 || op.COffset + (long)(m - 1) * op.Ldc + n > op.C.Length) throw new ArgumentException($"C ({op.C.Length} floats) is too small for ({m}, {n}) at {op.COffset}, stride {op.Ldc}");
    }

    // C[rowStart:rowEnd, colStart:colEnd] on one thread, with that thread's pack buffers.
    private static void Compute(in Operands op, int rowStart, int rowEnd, int colStart, int colEnd, ref float[]? packABuffer, ref float[]? packBBuffer)
    {
        int mr = MR, nr = NR, mc = MCPanels * mr, k = op.K, ldc = op.Ldc;
        float[] packA = Buffer(ref packABuffer, Math.Min(mc, rowEnd - rowStart + mr) * KC);
        float[] packB = Buffer(ref packBBuffer, Math.Min(NC, colEnd - colStart + nr) * KC);
        fixed (float* a0 = op.A, b0 = op.B, c0 = op.C, pa0 = packA, pb0 = packB)
        {
            float* a = a0 + op.AOffset, b = b0 + op.BOffset, c = c0 + op.COffset, pa = Align(pa0), pb = Align(pb0);
            for (int k0 = 0; k0 < k; k0 += KC)
            {
                int kc = Math.Min(KC, k - k0);
                bool load = op.Accumulate || k0 > 0;
                for (int j0 = colStart; j0 < colEnd; j0 += NC)
                {
                    int nc = Math.Min(NC, colEnd - j0);
                    Pack(b, op.Ldb, op.BTransposed, j0, nc, k0, kc, nr, pb);
                    for (int i0 = rowStart; i0 < rowEnd; i0 += mc)
                    {
                        int mcl = Math.Min(mc, rowEnd - i0);
                        Pack(a, op.Lda, op.ATransposed, i0, mcl, k0, kc, mr, pa);
                        for (int jr = 0; jr < nc; jr += nr)
                            for (int ir = 0; ir < mcl; ir += mr)
                                Tile(pa + ir * kc, pb + jr * kc, kc, c + (long)(i0 + ir) * ldc + j0 + jr, ldc,
                                    Math.Min(mr, mcl - ir), Math.Min(nr, nc - jr), load);
                    }
                }
            }
        }
    }

    private static float[] Buffer(ref float[]? buffer, int length)
    {
        // 16 spare floats to align the start to a cache line; pinned, so the address holds.
        if (buffer is null || buffer.Length < length + 16) buffer = GC.AllocateUninitializedArray<float>(length + 16, pinned: true);
        return buffer;
    }

    private static float* Align(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

    // A full tile goes straight to C; an edge tile runs on a copy padded to MR x NR (packing padded A and B with zeros).
    private static void Tile(float* a, float* b, int kc, float* c, int ldc, int rows, int cols, bool load)
    {
        if (rows == MR && cols == NR)
        {
            Kernel(a, b, kc, c, ldc, load);
            return;
        }
        float* tile = stackalloc float[MR * NR];
        if (load)
            for (int r = 0; r < rows; r++) new Span<float>(c + (long)r * ldc, cols).CopyTo(new Span<float>(tile + r * NR, cols));
        Kernel(a, b, kc, tile, NR, load);
        for (int r = 0; r < rows; r++) new Span<float>(tile + r * NR, cols).CopyTo(new Span<float>(c + (long)r * ldc, cols));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel(float* a, float* b, int kc, float* c, nint ldc, bool load)
    {
        if (Wide) Kernel12x32(a, b, kc, c, ldc, load);
        else Kernel6x16(a, b, kc, c, ldc, load);
    }
}
