using System.Diagnostics;

namespace DistillSpec.Fuzz;

/// <summary>
/// One parser under fuzzing. The property every input must hold: the parser either succeeds or
/// throws the project's documented format exception with a message naming the file; never
/// another exception type, never longer than <see cref="TimeLimit"/>, never more than
/// <see cref="AllocationLimit"/> bytes allocated (inputs are a few KB, so more means a size
/// read from the file was trusted).
/// </summary>
public sealed class ParserTarget(string name, string fileName, Func<IReadOnlyList<byte[]>> seeds, Action<string> parse,
    Func<Exception, bool> documented)
{
    /// <summary>Parses the file named <see cref="FileName"/> in a directory.</summary>
    public Action<string> Parse { get; } = parse;

    public static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(5);
    public const long AllocationLimit = 256L << 20;

    private IReadOnlyList<byte[]>? _seeds;

    public string Name { get; } = name;

    /// <summary>The name the input is written under, in a directory of its own.</summary>
    public string FileName { get; } = fileName;

    /// <summary>Valid files the mutations start from.</summary>
    public IReadOnlyList<byte[]> Seeds => _seeds ??= seeds();

    /// <summary>Null when input holds the property, else what went wrong.</summary>
    public string? Check(byte[] input, string workDirectory)
    {
        Directory.CreateDirectory(workDirectory);
        string path = Path.Combine(workDirectory, FileName);
        File.WriteAllBytes(path, input);
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        string? failure = null;
        try
        {
            Parse(workDirectory);
        }
        catch (Exception e) when (documented(e))
        {
            if (!e.Message.Contains(FileName, StringComparison.Ordinal))
                failure = $"{e.GetType().Name} does not name {FileName}: {e.Message}";
        }
        catch (Exception e)
        {
            failure = $"undocumented {e.GetType().FullName}: {e.Message}\n{e.StackTrace}";
        }
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        if (failure is null && clock.Elapsed > TimeLimit) failure = $"took {clock.Elapsed.TotalSeconds:F1} s (limit {TimeLimit.TotalSeconds} s)";
        if (failure is null && allocated > AllocationLimit) failure = $"allocated {allocated} bytes (limit {AllocationLimit})";
        return failure;
    }
}
