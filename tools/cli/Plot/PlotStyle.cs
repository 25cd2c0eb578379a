namespace DistillSpec.Cli.Plot;

/// <summary>The look every report plot shares.</summary>
internal static class PlotStyle
{
    public static void Apply(ScottPlot.Plot plot)
    {
        plot.FigureBackground.Color = ScottPlot.Colors.White;
        plot.Grid.MajorLineColor = ScottPlot.Colors.Black.WithAlpha(25);
    }
}
