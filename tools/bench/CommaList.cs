namespace DistillSpec.Bench;

/// <summary>The benchmarks' comma-separated option values ("1,2", "5,64,512").</summary>
internal static class CommaList
{
    public static int[] Ints(string list) => list.Split(',').Select(int.Parse).ToArray();
}
