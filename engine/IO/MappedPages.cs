using System.Runtime.InteropServices;

namespace DistillSpec.IO;

/// <summary>
/// Gives back the pages of a read-only file mapping once a loader has converted them. Read pages
/// stay in the process's resident set while the mapping lives, so a checkpoint read through its
/// mapping would otherwise count twice at the peak: once as file pages and once as the weights
/// made from them. Dropping them is safe: a later read faults them in from the file again.
/// </summary>
internal static unsafe partial class MappedPages
{
    private const int MadvDontNeed = 4;
    private static readonly long s_pageSize = Environment.SystemPageSize;
    private static bool s_unavailable;

    /// <summary>Drops the whole pages covering [start, start + length) from the resident set (Linux; elsewhere the OS reclaims them).</summary>
    public static void Release(byte* start, long length)
    {
        if (!OperatingSystem.IsLinux() || length <= 0 || s_unavailable) return;
        long first = (long)start / s_pageSize * s_pageSize;
        long end = ((long)start + length + s_pageSize - 1) / s_pageSize * s_pageSize;
        // A failure only means the pages stay resident until the mapping closes.
        try
        {
            _ = Advise((nint)first, (nuint)(end - first), MadvDontNeed);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Advise(nint address, nuint length, int advice);
}
