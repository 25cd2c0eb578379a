using System.Diagnostics;

namespace DistillSpec.Bench;

/// <summary>Runs a command as a fresh process, as a user would, and times it from start to exit.</summary>
internal static class ChildProcess
{
    public static (double Milliseconds, string Stderr) Run(string program, string arguments)
    {
        var start = new ProcessStartInfo(program, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        long t0 = Stopwatch.GetTimestamp();
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        if (process.ExitCode != 0) throw new InvalidOperationException($"'{program} {arguments}' exited with {process.ExitCode}: {stderr.Result}");
        return (ms, stderr.Result);
    }
}
