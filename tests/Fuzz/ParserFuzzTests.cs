using CsCheck;
using DistillSpec.Fuzz;

namespace DistillSpec.Tests.Fuzz;

/// <summary>
/// The fuzz property (ParserTarget.Check: success, or the documented exception naming the file;
/// no other exception, hang or huge allocation) on a short bounded run per parser, and on every
/// failing input a longer run (tools/fuzz/run.sh) has found and checked in.
/// </summary>
public class ParserFuzzTests
{
    public static TheoryData<string> Parsers => new(Targets.All.Select(t => t.Name));

    [Theory]
    [MemberData(nameof(Parsers))]
    public void Seeds_Parse(string parser)
    {
        var target = Targets.Named(parser);
        using var dir = new TempDirectory();
        foreach (byte[] seed in target.Seeds)
        {
            File.WriteAllBytes(dir.File(target.FileName), seed);
            target.Parse(dir.Path);
        }
    }

    [Theory]
    [MemberData(nameof(Parsers))]
    public void MutatedFiles_ParseOrFailWithAnErrorNamingTheFile(string parser)
    {
        var target = Targets.Named(parser);
        using var dir = new TempDirectory();
        string? failure = null;
        Mutator.Of(target.Seeds).Sample(input => (failure = target.Check(input, dir.Path)) is null, iter: 300, threads: 1);
        Assert.Null(failure);
    }

    [Theory]
    [MemberData(nameof(Parsers))]
    public void CheckedInCrashers_NowHoldTheProperty(string parser)
    {
        var target = Targets.Named(parser);
        using var dir = new TempDirectory();
        foreach (string file in Directory.EnumerateFiles(Path.Combine(CorpusDirectory(), parser), "*.bin"))
            Assert.True(target.Check(File.ReadAllBytes(file), dir.Path) is not { } failure, $"{Path.GetFileName(file)}: {target.Check(File.ReadAllBytes(file), dir.Path)}");
    }

    // tools/fuzz/corpus in the source tree, found upwards from the test assembly.
    private static string CorpusDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string corpus = Path.Combine(dir.FullName, "tools", "fuzz", "corpus");
            if (Directory.Exists(corpus)) return corpus;
        }
        throw new DirectoryNotFoundException($"tools/fuzz/corpus not found above {AppContext.BaseDirectory}");
    }
}
