using DistillSpec.Cli.Serve;

namespace DistillSpec.Tests.Cli.Serve;

/// <summary>The load test's check: a reply that is not its prompt's reference, or an id seen twice, is an error.</summary>
public sealed class PhaseReportTests
{
    private static LoadResult Reply(int prompt, string id, string text, double ms, string? error = null) =>
        new(prompt, id, text, 4, TimeSpan.FromMilliseconds(ms / 2), TimeSpan.FromMilliseconds(ms), 6, 3, error);

    private static readonly string[] References = ["alpha", "beta"];

    [Fact]
    public void Matching_replies_count_no_errors_and_give_rates_and_percentiles()
    {
        var results = Enumerable.Range(1, 100).Select(i => Reply(i % 2, $"c{i}", References[i % 2], i)).ToList();

        var report = PhaseReport.From(true, results, References, TimeSpan.FromSeconds(10), "");

        Assert.Equal(0, report.Errors);
        Assert.Equal(10, report.RequestsPerSecond);
        Assert.Equal(40, report.TokensPerSecond);
        Assert.Equal(50, report.LatencyP50Ms);
        Assert.Equal(99, report.LatencyP99Ms);
        Assert.Equal(25, report.TtftP50Ms);
        Assert.Equal(0.5, report.AcceptanceRate);
    }

    [Fact]
    public void Mixed_replies_failures_and_repeated_ids_are_errors()
    {
        var results = new List<LoadResult>
        {
            Reply(0, "c1", "alpha", 10),
            Reply(1, "c2", "alpha", 10),                       // another prompt's text
            Reply(0, "c3", "alp", 10),                         // cut short
            Reply(1, "c3", "beta", 10),                        // an id already sent
            Reply(0, "c5", "", 10, "HTTP 500: failed"),
        };

        var report = PhaseReport.From(false, results, References, TimeSpan.FromSeconds(1), "");

        Assert.Equal(2, report.Mismatched);
        Assert.Equal(4, report.Errors);
        Assert.Contains(report.ErrorSamples, e => e.Contains("sent twice"));
        Assert.Contains(report.ErrorSamples, e => e.Contains("HTTP 500"));
    }
}
