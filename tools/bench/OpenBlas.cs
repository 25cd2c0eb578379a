using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace DistillSpec.Bench;

/// <summary>
/// Debian's OpenBLAS (tools/bench/setup.sh installs it), bound at run time so the bench still
/// runs, and says why, where it is missing. Used only as a GEMM reference, never by the engine.
/// </summary>
internal sealed unsafe class OpenBlas
{
    public const string Library = "libopenblas.so.0";
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
    private readonly delegate* unmanaged<int, void> _setThreads;
    private readonly delegate* unmanaged<int> _getThreads;
    private readonly delegate* unmanaged<sbyte*> _config;

    private OpenBlas(nint library)
    {
        _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)
            NativeLibrary.GetExport(library, "cblas_sgemm");
        _setThreads = (delegate* unmanaged<int, void>)NativeLibrary.GetExport(library, "openblas_set_num_threads");
        _getThreads = (delegate* unmanaged<int>)NativeLibrary.GetExport(library, "openblas_get_num_threads");
        _config = (delegate* unmanaged<sbyte*>)NativeLibrary.GetExport(library, "openblas_get_config");
    }

    public static OpenBlas? TryLoad(out string problem)
    {
        problem = "";
        // Debian's 0.3.21 does not know newer Xeons (family 6, model 207 here) and falls back to its
        // SSE3 Prescott kernels, ~20 GFLOP/s a core; on AVX-512 machines its SkylakeX kernels are the
        // fair reference. Set before loading (it reads the variable once, natively), unless the user chose.
        if (OperatingSystem.IsLinux() && Avx512F.IsSupported && Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") is null)
            SetEnvironment("OPENBLAS_CORETYPE", "SkylakeX", 0);
        if (!NativeLibrary.TryLoad(Library, out nint library))
        {
            problem = $"{Library} not found; run tools/bench/setup.sh (installs Debian's libopenblas0-pthread)";
            return null;
        }
        try
        {
            return new OpenBlas(library);
        }
        catch (EntryPointNotFoundException e)
        {
            problem = $"{Library} lacks an export: {e.Message}";
            return null;
        }
    }

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnvironment(string name, string value, int overwrite);

    public string Config => new(_config());

    public int Threads
    {
        get => _getThreads();
        set => _setThreads(value);
    }

    /// <summary>y (m, n) = x (m, k) * w (n, k)^T, the engine's MatMul with w in (out, in) layout.</summary>
    public void MatMulTransposed(float[] x, int m, int k, float[] w, int n, float[] y) =>
        Sgemm(false, x, k, true, w, k, y, m, n, k);

    /// <summary>
    /// c (m, n) = op(a) · op(b), row-major: op(a) is a (m, k), or a^T with a stored (k, m) when
    /// transposeA; op(b) is b (k, n), or b^T with b stored (n, k) when transposeB.
    /// </summary>
    public void Sgemm(bool transposeA, float[] a, int lda, bool transposeB, float[] b, int ldb, float[] c, int m, int n, int k)
    {
        long aNeeds = transposeA ? (long)k * lda : (long)m * lda, bNeeds = transposeB ? (long)n * ldb : (long)k * ldb;
        if (a.Length < aNeeds || b.Length < bNeeds || c.Length < (long)m * n) throw new ArgumentException("buffers too small for the shape");
        fixed (float* pa = a, pb = b, pc = c)
            _sgemm(RowMajor, transposeA ? Trans : NoTrans, transposeB ? Trans : NoTrans, m, n, k, 1f, pa, lda, pb, ldb, 0f, pc, n);
    }
}
