using System.Diagnostics;
using CsCheck;
using DistillSpec.Fuzz;

// dspec-fuzz PARSER MINUTES [CORPUS]: mutates PARSER's seed files for MINUTES, prints the executions,
// and writes each input that breaks the property to CORPUS/PARSER/ (default tools/fuzz/corpus).
if (args.Length is < 2 or > 3 || !double.TryParse(args[1], System.Globalization.CultureInfo.InvariantCulture, out double minutes) || minutes <= 0)
{
    Console.Error.WriteLine($"usage: dspec-fuzz PARSER MINUTES [CORPUS]; PARSER is one of {string.Join(", ", Targets.All.Select(t => t.Name))}");
    return 2;
}
ParserTarget target;
try
{
    target = Targets.Named(args[0]);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
string corpus = Path.Combine(args.Length > 2 ? args[2] : Path.Combine(AppContext.BaseDirectory, "corpus"), target.Name);
string work = Path.Combine(Path.GetTempPath(), $"dspec-fuzz-{target.Name}-{Environment.ProcessId}");

long executions = 0, failures = 0;
byte[] current = [];
long startedAt = 0;
var clock = Stopwatch.StartNew();

// A hang never returns to the property, so a watchdog saves the input and ends the run.
var watchdog = new Thread(() =>
{
    while (true)
    {
        Thread.Sleep(1000);
        long started = Interlocked.Read(ref startedAt);
        if (started != 0 && Stopwatch.GetElapsedTime(started) > 6 * ParserTarget.TimeLimit)
        {
            string file = Save(corpus, "hang", Volatile.Read(ref current));
            Console.WriteLine($"{target.Name}: hang after {executions} executions; input saved to {file}");
            Environment.Exit(1);
        }
    }
}) { IsBackground = true };
watchdog.Start();

var progress = Stopwatch.StartNew();
string? firstFailure = null;
try
{
    Mutator.Of(target.Seeds).Sample(input =>
    {
        Volatile.Write(ref current, input);
        Interlocked.Exchange(ref startedAt, Stopwatch.GetTimestamp());
        string? failure = target.Check(input, work);
        Interlocked.Exchange(ref startedAt, 0);
        executions++;
        if (progress.Elapsed.TotalSeconds >= 60)
        {
            Console.WriteLine($"{target.Name}: {executions} executions, {failures} failing inputs, {clock.Elapsed.TotalMinutes:F1} min");
            progress.Restart();
        }
        if (failure is null) return true;
        // CsCheck shrinks a failure by re-running smaller inputs: each distinct failing one is kept.
        if (failures++ < 50) Save(corpus, "crash", input);
        firstFailure ??= failure;
        return false;
    }, iter: long.MaxValue, time: (int)Math.Ceiling(minutes * 60), threads: 1);
}
catch (CsCheckException e)
{
    Console.WriteLine($"{target.Name}: FAILED after {executions} executions in {clock.Elapsed.TotalMinutes:F1} min; {failures} failing inputs saved to {corpus}");
    Console.WriteLine($"first failure: {firstFailure}");
    Console.WriteLine(e.Message.Split('\n')[0]);
    return 1;
}
finally
{
    try { Directory.Delete(work, recursive: true); } catch (IOException) { }
}
Console.WriteLine($"{target.Name}: {executions} executions in {clock.Elapsed.TotalMinutes:F1} min, no failures");
return 0;

static string Save(string corpus, string kind, byte[] input)
{
    Directory.CreateDirectory(corpus);
    string file = Path.Combine(corpus, $"{kind}-{Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(input))[..16]}.bin");
    File.WriteAllBytes(file, input);
    return file;
}
