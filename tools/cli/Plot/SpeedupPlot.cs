using System.Globalization;

namespace DistillSpec.Cli.Plot;

/// <summary>One line of the plot: tau and speed-up at each gamma.</summary>
internal sealed record PlotSeries(string Name, double[] Gamma, double[] Tau, double[] Speedup);

/// <summary>Two panels side by side, tau (left) and wall-clock speed-up (right) against gamma, one colour per series.</summary>
internal static class SpeedupPlot
{
    private const int PanelWidth = 460, Height = 360, Left = 56, Right = 16, Top = 34, Bottom = 44;
    private static readonly (byte, byte, byte) Ink = (40, 40, 40), Grid = (225, 225, 225);
    private static readonly ((byte, byte, byte) Rgb, string Name)[] s_palette =
    [
        ((31, 119, 180), "blue"), ((255, 127, 14), "orange"), ((44, 160, 44), "green"), ((214, 39, 40), "red"),
        ((148, 103, 189), "purple"), ((140, 86, 75), "brown"), ((227, 119, 194), "pink"), ((127, 127, 127), "grey"),
    ];

    public static string ColourName(int series) => s_palette[series % s_palette.Length].Name;

    /// <summary>xLabel and leftTitle let other sweeps (e.g. lenience against log-likelihood) reuse the layout.</summary>
    public static void Write(string path, IReadOnlyList<PlotSeries> series, string xLabel = "gamma", string leftTitle = "tau")
    {
        var canvas = new Canvas(2 * PanelWidth, Height);
        Panel(canvas, 0, leftTitle, xLabel, series, s => s.Tau, reference: null);
        Panel(canvas, PanelWidth, "speedup", xLabel, series, s => s.Speedup, reference: 1);
        canvas.Save(path);
    }

    private static void Panel(Canvas canvas, int x0, string title, string xLabel, IReadOnlyList<PlotSeries> series, Func<PlotSeries, double[]> values, double? reference)
    {
        var xs = series.SelectMany(s => s.Gamma).ToList();
        var ys = series.SelectMany(values).Where(double.IsFinite).Append(reference ?? 0).ToList();
        double xMin = xs.Min(), xMax = Math.Max(xs.Max(), xMin + 1);
        double yMax = NiceCeiling(ys.Max() * 1.05);
        int w = PanelWidth - Left - Right, h = Height - Top - Bottom, left = x0 + Left, bottom = Top + h;
        int X(double g) => left + (int)Math.Round((g - xMin) / (xMax - xMin) * w);
        int Y(double v) => bottom - (int)Math.Round(v / yMax * h);

        for (int i = 0; i <= 5; i++)
        {
            double v = yMax * i / 5;
            canvas.Line(left, Y(v), left + w, Y(v), Grid);
            string label = v.ToString(yMax >= 10 ? "F0" : "F1", CultureInfo.InvariantCulture);
            canvas.Text(left - 8 - Canvas.TextWidth(label), Y(v) - 5, label, Ink);
        }
        foreach (double g in xs.Distinct())
        {
            canvas.Line(X(g), bottom, X(g), bottom + 5, Ink);
            string label = g.ToString("0.#", CultureInfo.InvariantCulture);
            canvas.Text(X(g) - Canvas.TextWidth(label) / 2, bottom + 10, label, Ink);
        }
        canvas.Line(left, Top, left, bottom, Ink, 2);
        canvas.Line(left, bottom, left + w, bottom, Ink, 2);
        canvas.Text(left, 10, title, Ink, 3);
        canvas.Text(left + w - Canvas.TextWidth(xLabel), Height - 16, xLabel, Ink);
        if (reference is double r) canvas.Line(left, Y(r), left + w, Y(r), Ink, 1, dash: 6);

        for (int s = 0; s < series.Count; s++)
        {
            var colour = s_palette[s % s_palette.Length].Rgb;
            var v = values(series[s]);
            var g = series[s].Gamma;
            for (int i = 0; i < g.Length; i++)
            {
                if (!double.IsFinite(v[i])) continue;
                canvas.Fill(X(g[i]) - 3, Y(v[i]) - 3, 7, 7, colour);
                if (i + 1 < g.Length && double.IsFinite(v[i + 1])) canvas.Line(X(g[i]), Y(v[i]), X(g[i + 1]), Y(v[i + 1]), colour, 2);
            }
        }
    }

    // 1, 2 or 5 times a power of ten, so the five grid steps fall on round numbers.
    private static double NiceCeiling(double x)
    {
        if (!(x > 0)) return 1;
        double power = Math.Pow(10, Math.Floor(Math.Log10(x)));
        foreach (double m in new[] { 1.0, 2.0, 5.0, 10.0 })
            if (m * power >= x) return m * power;
        return 10 * power;
    }
}
