using System.Runtime.InteropServices;

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

    public string Config => new(_config());

    public int Threads
    {
        get => _getThreads();
        set => _setThreads(value);
    }

    /// <summary>y (m, n) = x (m, k) * w (n, k)^T, the engine's MatMul with w in (out, in) layout.</summary>
    public void MatMulTransposed(float[] x, int m, int k, float[] w, int n, float[] y)
    {
        if (x.Length < m * k || w.Length < n * k || y.Length < m * n) throw new ArgumentException("buffers too small for the shape");
        fixed (float* px = x, pw = w, py = y)
            _sgemm(RowMajor, NoTrans, Trans, m, n, k, 1f, px, k, pw, k, 0f, py, n);
    }
}
