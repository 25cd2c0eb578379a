using ScottPlot;

namespace DistillSpec.Cli.Plot;

/// <summary>One series of the lossy sweep: at each lenience, the speed-up and the quality change with its 95% interval.</summary>
internal sealed record QualitySeries(string Name, double[] Lenience, double[] Speedup, double[] Delta, double[] DeltaHalfWidth);

/// <summary>Quality against speed: the target NLL change from target-only sampling (y, with 95% intervals) against the wall-clock speed-up (x).</summary>
internal static class QualityPlot
{
    public static void Write(string path, IReadOnlyList<QualitySeries> series)
    {
        var plot = new ScottPlot.Plot();
        PlotStyle.Apply(plot);
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            var colour = palette.GetColor(i);
            var line = plot.Add.Scatter(s.Speedup, s.Delta, colour);
            line.LegendText = s.Name;
            line.LineWidth = 2;
            line.MarkerSize = 7;
            var bars = plot.Add.ErrorBar(s.Speedup, s.Delta, s.DeltaHalfWidth);
            bars.Color = colour;
            for (int j = 0; j < s.Lenience.Length; j++)
            {
                var label = plot.Add.Text($"eps {s.Lenience[j]:0.##}", s.Speedup[j], s.Delta[j]);
                label.LabelFontColor = colour;
                label.LabelFontSize = 11;
                label.OffsetX = 6;
            }
        }
        var zero = plot.Add.HorizontalLine(0);
        zero.LinePattern = LinePattern.Dashed;
        zero.Color = Colors.Gray;
        plot.Title("lossy speculative decoding: quality against speed");
        plot.XLabel("wall-clock speed-up");
        plot.YLabel("target NLL per token - target-only sampling (lower is better)");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, 900, 560);
    }
}
