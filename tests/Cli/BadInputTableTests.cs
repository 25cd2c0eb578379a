using DistillSpec.Models;

namespace DistillSpec.Tests.Cli;

/// <summary>The good model every case starts from, written once.</summary>
public sealed class TableModel : IDisposable
{
    private readonly TempDirectory _dir = new();

    public TableModel() => RandomModel.Create(Directory, RandomModel.LlamaConfig(32, 2, 4, 2, 64, 257, context: 64), seed: 3);

    public string Directory => _dir.File("model");

    public void Dispose() => _dir.Dispose();
}

// Cli.Run swaps Console.Out and Console.Error, so nothing else may run while it does.
[CollectionDefinition("Console", DisableParallelization = true)]
public sealed class ConsoleCollection;

/// <summary>Runs every row of BadInputTable through the real command line, in-process.</summary>
[Collection("Console")]
public class BadInputTableTests(TableModel model) : IClassFixture<TableModel>
{
    public static TheoryData<string> Names => new(BadInputTable.Cases.Select(c => c.Name));

    [Fact]
    public void Table_HoldsAtLeast100DistinctCases()
    {
        Assert.True(BadInputTable.Cases.Count >= 100, $"{BadInputTable.Cases.Count} cases");
        Assert.Equal(BadInputTable.Cases.Count, BadInputTable.Cases.Select(c => c.Name).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Case_HasItsExpectedOutcome(string name)
    {
        var row = BadInputTable.Cases.Single(c => c.Name == name);
        using var scratch = new TempDirectory();
        var dir = new CaseDirectory(scratch.Path);
        CopyDirectory(model.Directory, dir.Model);
        row.Break?.Invoke(dir);
        string[] args = row.CommandLine.Replace("{model}", dir.Model).Replace("{draft}", dir.Model)
            .Replace("{out}", dir.Out).Replace("{run}", dir.Run)
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);

        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = DistillSpec.Cli.Cli.Run(args, stdout, stderr);
        string output = stdout + "\n" + stderr;

        Assert.DoesNotContain("Unhandled exception", output);
        Assert.DoesNotMatch(@"\n\s+at [\w.]+\(", output);  // no stack trace
        switch (row.Outcome)
        {
            case Expect.Error:
                Assert.True(code == 1, $"exit code {code}, expected 1; output:\n{output}");
                Assert.Contains(row.Text, output);
                break;
            case Expect.Warning:
                Assert.True(code == 0, $"exit code {code}, expected 0; output:\n{output}");
                Assert.Contains("warning: ", stderr.ToString());
                Assert.Contains(row.Text, stderr.ToString());
                break;
            default:
                Assert.True(code == 0, $"exit code {code}, expected 0; output:\n{output}");
                Assert.DoesNotContain("warning: ", stderr.ToString());
                break;
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }
}
