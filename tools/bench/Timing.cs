using System.Diagnostics;

namespace DistillSpec.Bench;

internal static class Timing
{
    /// <summary>
    /// Fastest of repeated runs after one warm-up (JIT tiering, caches, thread start-up), repeating
    /// until minRuns and minSeconds are both reached: the best run is the least disturbed by a busy machine.
    /// </summary>
    public static double BestSeconds(Action run, int minRuns = 3, double minSeconds = 0.3)
    {
        run();
        double best = double.MaxValue, total = 0;
        for (int i = 0; i < minRuns || total < minSeconds; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            best = Math.Min(best, seconds);
            total += seconds;
        }
        return best;
    }
}
