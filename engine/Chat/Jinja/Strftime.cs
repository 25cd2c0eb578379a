using System.Globalization;
using System.Text;

namespace DistillSpec.Chat.Jinja;

/// <summary>Python's <c>strftime</c> for the codes date-stamping templates use, with English (C locale) names.</summary>
internal static class Strftime
{
    public static string Format(DateTimeOffset t, string format)
    {
        var sb = new StringBuilder();
        CultureInfo c = CultureInfo.InvariantCulture;
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 == format.Length)
            {
                sb.Append(format[i]);
                continue;
            }
            char code = format[++i];
            sb.Append(code switch
            {
                'Y' => t.Year.ToString(c),
                'y' => (t.Year % 100).ToString("00", c),
                'm' => t.Month.ToString("00", c),
                'd' => t.Day.ToString("00", c),
                'e' => t.Day.ToString(c).PadLeft(2),
                'b' or 'h' => t.ToString("MMM", c),
                'B' => t.ToString("MMMM", c),
                'a' => t.ToString("ddd", c),
                'A' => t.ToString("dddd", c),
                'H' => t.Hour.ToString("00", c),
                'I' => ((t.Hour + 11) % 12 + 1).ToString("00", c),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'M' => t.Minute.ToString("00", c),
                'S' => t.Second.ToString("00", c),
                'f' => (t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", c),
                'j' => t.DayOfYear.ToString("000", c),
                'z' => t.ToString("zzz", c).Replace(":", "", StringComparison.Ordinal),
                'F' => t.ToString("yyyy-MM-dd", c),
                'T' => t.ToString("HH:mm:ss", c),
                '%' => "%",
                _ => "%" + code,
            });
        }
        return sb.ToString();
    }
}
