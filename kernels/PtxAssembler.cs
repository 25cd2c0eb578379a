using System.Diagnostics;
using System.Text.RegularExpressions;

namespace DistillSpec.Kernels;

/// <summary>What ptxas reports for one kernel: registers per thread, spills, static shared memory.</summary>
/// <param name="SharedBytes">Static shared memory only; the kernels take theirs dynamically, sized per launch by the group size.</param>
public sealed record PtxasStats(string Kernel, string Architecture, int Registers, int SpillStoreBytes, int SpillLoadBytes,
    int StackBytes, int SharedBytes);

/// <summary>
/// NVIDIA's PTX assembler, where one is installed: $DSPEC_PTXAS, ptxas on PATH, or the copy that
/// tools/gpu/install-ptxas.sh keeps as tools/gpu/.cuda/bin/ptxas. Assembles ILGPU's PTX for a real
/// architecture and reads back ptxas -v's resource usage.
/// </summary>
public static partial class PtxAssembler
{
    /// <summary>The ptxas to use, or null when there is none here.</summary>
    public static string? Find()
    {
        if (Environment.GetEnvironmentVariable("DSPEC_PTXAS") is { Length: > 0 } configured && File.Exists(configured)) return configured;
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "ptxas");
            if (File.Exists(candidate)) return candidate;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tools", "gpu", ".cuda", "bin", "ptxas");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>ptxas's version line ("Cuda compilation tools, release 11.8, V11.8.89").</summary>
    public static string Version(string ptxas) =>
        Run(ptxas, "--version").Split('\n').LastOrDefault(l => l.Contains("release", StringComparison.Ordinal))?.Trim() ?? "unknown";

    /// <exception cref="InvalidOperationException">ptxas rejected the PTX; the message holds its output.</exception>
    public static PtxasStats Assemble(string ptxas, PtxKernel kernel)
    {
        string dir = Directory.CreateTempSubdirectory("dspec-ptx-").FullName;
        try
        {
            string input = Path.Combine(dir, "kernel.ptx");
            File.WriteAllText(input, kernel.Assembly);
            string output = Run(ptxas, $"-v -arch={kernel.Architecture} -o \"{Path.Combine(dir, "kernel.cubin")}\" \"{input}\"");
            return Parse(kernel, output);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"ptxas could not assemble {kernel.Name} for {kernel.Architecture}: {e.Message}", e);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // ILGPU emits one entry function per module, so the totals of the output are the kernel's.
    internal static PtxasStats Parse(PtxKernel kernel, string output)
    {
        int Number(Regex pattern)
        {
            var match = pattern.Match(output);
            return match.Success ? int.Parse(match.Groups[1].Value) : 0;
        }
        if (!RegistersPattern().IsMatch(output)) throw new InvalidOperationException($"no resource usage in ptxas output: {output}");
        return new PtxasStats(kernel.Name, kernel.Architecture, Number(RegistersPattern()), Number(SpillStoresPattern()),
            Number(SpillLoadsPattern()), Number(StackPattern()), Number(SharedPattern()));
    }

    private static string Run(string ptxas, string arguments)
    {
        var start = new ProcessStartInfo(ptxas, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {ptxas}");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string all = stdout + stderr.Result;
        if (process.ExitCode != 0) throw new InvalidOperationException($"exit code {process.ExitCode}: {all.Trim()}");
        return all;
    }

    [GeneratedRegex(@"Used (\d+) registers")]
    private static partial Regex RegistersPattern();

    [GeneratedRegex(@"(\d+) bytes spill stores")]
    private static partial Regex SpillStoresPattern();

    [GeneratedRegex(@"(\d+) bytes spill loads")]
    private static partial Regex SpillLoadsPattern();

    [GeneratedRegex(@"(\d+) bytes stack frame")]
    private static partial Regex StackPattern();

    [GeneratedRegex(@"(\d+) bytes smem")]
    private static partial Regex SharedPattern();
}
