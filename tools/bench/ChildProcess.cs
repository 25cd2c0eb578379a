using System.Diagnostics;

namespace DistillSpec.Bench;

/// <summary>Runs a command as a fresh process, as a user would, and times it from start to exit.</summary>
internal static class ChildProcess
{
    public static (double Milliseconds, string Stdout, string Stderr) Run(string program, string arguments) =>
        Run(new ProcessStartInfo(program, arguments));

    /// <summary>As Run, with each argument passed as it is (no quoting).</summary>
    public static (double Milliseconds, string Stdout, string Stderr) Run(string program, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program);
        foreach (string a in arguments) start.ArgumentList.Add(a);
        return Run(start);
    }

    private static (double Milliseconds, string Stdout, string Stderr) Run(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        string command = $"{start.FileName} {(start.ArgumentList.Count > 0 ? string.Join(' ', start.ArgumentList) : start.Arguments)}";
        long t0 = Stopwatch.GetTimestamp();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {start.FileName}");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        if (process.ExitCode != 0) throw new InvalidOperationException($"'{command}' exited with {process.ExitCode}: {stderr.Result}");
        return (ms, stdout, stderr.Result);
    }
}
