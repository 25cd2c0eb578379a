using ScottPlot;

namespace DistillSpec.Cli.Plot;

/// <summary>One line of the plot: a measure (tau, quality) and the speed-up at each x (gamma, eps).</summary>
internal sealed record PlotSeries(string Name, double[] X, double[] Left, double[] Speedup);

/// <summary>Two panels side by side, a measure (left) and wall-clock speed-up (right) against gamma or eps, one colour per series.</summary>
internal static class SpeedupPlot
{
    private const int PanelWidth = 560, Height = 420;

    public static void Write(string path, IReadOnlyList<PlotSeries> series, string xLabel = "gamma", string leftTitle = "tau")
    {
        var figure = new Multiplot();
        figure.AddPlots(2);
        figure.Layout = new ScottPlot.MultiplotLayouts.Columns();
        Panel(figure.GetPlot(0), leftTitle, xLabel, series, s => s.Left, reference: null);
        Panel(figure.GetPlot(1), "speed-up", xLabel, series, s => s.Speedup, reference: 1);
        figure.SavePng(path, 2 * PanelWidth, Height);
    }

    private static void Panel(ScottPlot.Plot plot, string title, string xLabel, IReadOnlyList<PlotSeries> series, Func<PlotSeries, double[]> values, double? reference)
    {
        PlotStyle.Apply(plot);
        foreach (var s in series)
        {
            var line = plot.Add.Scatter(s.X, values(s));
            line.LegendText = s.Name;
            line.LineWidth = 2;
            line.MarkerSize = 7;
        }
        if (reference is double r)
        {
            var level = plot.Add.HorizontalLine(r);
            level.LinePattern = LinePattern.Dashed;
            level.Color = Colors.Gray;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.Axes.Margins(bottom: 0);
        plot.ShowLegend(Alignment.LowerRight);
    }
}
