using System.Text;

namespace DistillSpec.Tokenization;

/// <summary>
/// NFC, NFD, NFKC and NFKD (UAX #15). The engine runs with InvariantGlobalization, where string.Normalize
/// leaves text unchanged, so the tables ship as UnicodeNormalization.txt, written from the same Unicode version
/// that the reference tokenizers normalize with (tools/tokenizers/write-unicode-data.mjs).
/// </summary>
internal static class UnicodeNormalization
{
    private const int HangulBase = 0xAC00, HangulCount = 11172, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int VCount = 21, TCount = 28;

    private static readonly Dictionary<int, byte> s_combiningClass = [];
    private static readonly Dictionary<int, int[]> s_canonical = [], s_compatibility = [];
    private static readonly Dictionary<long, int> s_compositions = [];
    // No code point below this has a decomposition or a combining class, so such text is already normalized.
    private static readonly int s_firstAffected;

    static UnicodeNormalization()
    {
        using Stream stream = typeof(UnicodeNormalization).Assembly.GetManifestResourceStream("DistillSpec.Tokenization.UnicodeNormalization.txt")
            ?? throw new InvalidOperationException("The Unicode normalization tables are missing from the engine assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        int first = int.MaxValue;
        while (reader.ReadLine() is string line)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            string[] f = line.Split(' ');
            int cp = Convert.ToInt32(f[1], 16);
            switch (line[0])
            {
                case 'c': s_combiningClass[cp] = byte.Parse(f[2]); break;
                case 'd': s_canonical[cp] = Parse(f, 2); break;
                case 'k': s_compatibility[cp] = Parse(f, 2); break;
                case 'p': s_compositions[Key(cp, Convert.ToInt32(f[2], 16))] = Convert.ToInt32(f[3], 16); continue;
            }
            first = Math.Min(first, cp);
        }
        s_firstAffected = first;
    }

    public static string Normalize(string text, bool compatibility, bool compose)
    {
        int i = 0;
        while (i < text.Length && text[i] < s_firstAffected) i++;
        if (i == text.Length) return text;

        var cps = new List<int>(text.Length + 8);
        foreach (Rune r in text.EnumerateRunes()) Decompose(r.Value, compatibility, cps);
        ReorderMarks(cps);
        if (compose) Compose(cps);

        var sb = new StringBuilder(cps.Count + 8);
        foreach (int cp in cps) sb.Append(char.ConvertFromUtf32(cp));
        return sb.ToString();
    }

    private static int[] Parse(string[] fields, int from)
    {
        var cps = new int[fields.Length - from];
        for (int k = 0; k < cps.Length; k++) cps[k] = Convert.ToInt32(fields[from + k], 16);
        return cps;
    }

    private static long Key(int first, int second) => ((long)first << 21) | (uint)second;

    private static int CombiningClass(int cp) => s_combiningClass.TryGetValue(cp, out byte c) ? c : 0;

    private static void Decompose(int cp, bool compatibility, List<int> output)
    {
        int s = cp - HangulBase;
        if ((uint)s < HangulCount)
        {
            output.Add(LBase + s / (VCount * TCount));
            output.Add(VBase + s % (VCount * TCount) / TCount);
            if (s % TCount != 0) output.Add(TBase + s % TCount);
            return;
        }
        // The tables hold full decompositions, so no recursion is needed.
        if (compatibility && s_compatibility.TryGetValue(cp, out int[]? k)) output.AddRange(k);
        else if (s_canonical.TryGetValue(cp, out int[]? d)) output.AddRange(d);
        else output.Add(cp);
    }

    /// <summary>Canonical ordering: a stable sort by combining class within every run of non-starters.</summary>
    private static void ReorderMarks(List<int> cps)
    {
        for (int i = 1; i < cps.Count; i++)
        {
            int cc = CombiningClass(cps[i]);
            if (cc == 0) continue;
            int j = i;
            while (j > 0 && CombiningClass(cps[j - 1]) > cc)
            {
                (cps[j - 1], cps[j]) = (cps[j], cps[j - 1]);
                j--;
            }
        }
    }

    private static void Compose(List<int> cps)
    {
        int write = 0, starter = -1, lastClass = -1; // lastClass -1: nothing kept since the starter
        for (int read = 0; read < cps.Count; read++)
        {
            int cp = cps[read], cc = CombiningClass(cp);
            bool reachable = starter >= 0 && (lastClass == -1 || (lastClass != 0 && lastClass < cc));
            if (reachable && TryCompose(cps[starter], cp, out int composite))
            {
                cps[starter] = composite;
                continue;
            }
            cps[write] = cp;
            if (cc == 0)
            {
                starter = write;
                lastClass = -1;
            }
            else
            {
                lastClass = cc;
            }
            write++;
        }
        cps.RemoveRange(write, cps.Count - write);
    }

    private static bool TryCompose(int first, int second, out int composite)
    {
        int l = first - LBase, v = second - VBase;
        if ((uint)l < 19 && (uint)v < VCount)
        {
            composite = HangulBase + (l * VCount + v) * TCount;
            return true;
        }
        int s = first - HangulBase, t = second - TBase;
        if ((uint)s < HangulCount && s % TCount == 0 && t > 0 && t < TCount)
        {
            composite = first + t;
            return true;
        }
        return s_compositions.TryGetValue(Key(first, second), out composite);
    }
}
