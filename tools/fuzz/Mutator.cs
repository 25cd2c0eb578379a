using System.Text;
using CsCheck;

namespace DistillSpec.Fuzz;

/// <summary>
/// Mutations of valid seed files, as a CsCheck generator: a plan (seed index, then 1 to 6 edits
/// with random operands) applied deterministically, so CsCheck shrinks a failure to fewer and
/// smaller edits. The edits are what breaks parsers: bit flips, truncation, deleted and
/// duplicated ranges, splices of two seeds, boundary integers over binary fields, and huge,
/// negative or non-integer numbers in place of the digits of a JSON value.
/// </summary>
public static class Mutator
{
    private const int Kinds = 9;

    private static readonly byte[] s_bytes = [0, 0xFF, 0x7F, 0x80, (byte)'"', (byte)'{', (byte)'}', (byte)'[', (byte)']', (byte)',',
        (byte)':', (byte)'-', (byte)'0', (byte)'9', (byte)'e', (byte)'\\'];

    private static readonly ulong[] s_integers = [0, 1, 2, 7, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
        0x1_0000_0000, 0x4000_0000_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, ulong.MaxValue];

    private static readonly string[] s_numbers = ["99999999999999999999", "2147483647", "2147483648", "4294967296", "-1", "0", "-0",
        "1e308", "1e400", "1e-50", "1.5", "1e20", "null", "\"7\"", "true", "[]", "{}"];

    /// <summary>Mutated copies of the seeds.</summary>
    public static Gen<byte[]> Of(IReadOnlyList<byte[]> seeds) =>
        Gen.Select(Gen.Int[0, seeds.Count - 1], Gen.Select(Gen.Int[0, Kinds - 1], Gen.UInt, Gen.UInt, Gen.UInt).Array[1, 6],
            (seed, edits) => Apply(seeds, seed, edits));

    public static byte[] Apply(IReadOnlyList<byte[]> seeds, int seed, (int Kind, uint A, uint B, uint C)[] edits)
    {
        var data = new List<byte>(seeds[seed]);
        foreach (var (kind, a, b, c) in edits) Edit(data, seeds, kind, a, b, c);
        return [.. data];
    }

    private static void Edit(List<byte> data, IReadOnlyList<byte[]> seeds, int kind, uint a, uint b, uint c)
    {
        int n = data.Count;
        int At(uint x) => n == 0 ? 0 : (int)(x % (uint)n);
        switch (kind)
        {
            case 0 when n > 0: data[At(a)] ^= (byte)(1 << (int)(b % 8)); break;
            case 1 when n > 0: data[At(a)] = s_bytes[b % (uint)s_bytes.Length]; break;
            case 2: data.RemoveRange((int)(a % (uint)(n + 1)), n - (int)(a % (uint)(n + 1))); break;
            case 3 when n > 0:
            {
                int start = At(a);
                data.RemoveRange(start, Math.Min((int)(b % 64) + 1, n - start));
                break;
            }
            case 4 when n > 0:
            {
                int start = At(a), count = Math.Min((int)(b % 64) + 1, n - start);
                data.InsertRange(At(c), data.GetRange(start, count));
                break;
            }
            case 5:
            {
                byte[] other = seeds[(int)(c % (uint)seeds.Count)];
                int keep = n == 0 ? 0 : At(a), from = other.Length == 0 ? 0 : (int)(b % (uint)other.Length);
                data.RemoveRange(keep, n - keep);
                data.AddRange(other.AsSpan(from).ToArray());
                break;
            }
            case 6 when n > 0:
            {
                ulong value = s_integers[b % (uint)s_integers.Length];
                int width = c % 2 == 0 ? 4 : 8, start = At(a);
                for (int i = 0; i < width && start + i < n; i++) data[start + i] = (byte)(value >> (8 * i));
                break;
            }
            case 7: ReplaceNumber(data, At(a), s_numbers[b % (uint)s_numbers.Length]); break;
            case 8: data.Insert(n == 0 ? 0 : (int)(a % (uint)(n + 1)), (byte)b); break;
        }
    }

    // The first run of digits at or after start (wrapping around) becomes text.
    private static void ReplaceNumber(List<byte> data, int start, string text)
    {
        int n = data.Count;
        for (int k = 0; k < n; k++)
        {
            int i = (start + k) % n;
            if (!char.IsAsciiDigit((char)data[i])) continue;
            while (i > 0 && (char.IsAsciiDigit((char)data[i - 1]) || data[i - 1] == '-')) i--;
            int end = i;
            while (end < n && (char.IsAsciiDigit((char)data[end]) || data[end] is (byte)'.' or (byte)'e' or (byte)'-')) end++;
            data.RemoveRange(i, end - i);
            data.InsertRange(i, Encoding.ASCII.GetBytes(text));
            return;
        }
    }
}
