using RLAgents.Agents.Evaluation;
using ScottPlot;

namespace RLAgents.Experiments.Cli;

/// <summary>Draws learning curves with ScottPlot: one panel against env steps, one against wall-clock seconds.</summary>
internal static class CurvePlot
{
    /// <summary>Writes the figure of <paramref name="curves"/> as a PNG of <paramref name="width"/> × <paramref name="height"/> pixels.</summary>
    public static void Save(IReadOnlyList<RunCurve> curves, string path, int width, int height)
    {
        string metric = curves[0].Metric;
        var multiplot = new Multiplot();
        var panels = new[] { (Axis: CurveAxis.Steps, Label: "env steps"), (Axis: CurveAxis.Seconds, Label: "wall-clock seconds") };
        multiplot.AddPlots(panels.Length);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        for (int p = 0; p < panels.Length; p++)
        {
            var plot = multiplot.GetPlot(p);
            var groups = LearningCurves.Aggregate(curves, panels[p].Axis, gridPoints: 100);
            for (int g = 0; g < groups.Count; g++)
            {
                var group = groups[g];
                var color = new ScottPlot.Palettes.Category10().GetColor(g);
                if (group.Runs.Count > 1)
                    foreach (var run in group.Runs)
                    {
                        var (x, y) = LearningCurves.Series(run, panels[p].Axis);
                        if (x.Length == 0) continue;
                        var thin = plot.Add.ScatterLine(x, y);
                        thin.Color = color.WithAlpha(0.25);
                        thin.LineWidth = 1;
                    }
                if (group.Points.Count == 0) continue;
                double[] xs = [.. group.Points.Select(q => q.X)];
                if (group.Runs.Count > 1)
                {
                    var band = plot.Add.FillY(xs, [.. group.Points.Select(q => q.Iqm.Upper)], [.. group.Points.Select(q => q.Iqm.Lower)]);
                    band.FillStyle.Color = color.WithAlpha(0.2);
                    band.LineStyle.Width = 0;
                }
                var iqm = plot.Add.ScatterLine(xs, [.. group.Points.Select(q => q.Iqm.Value)]);
                iqm.Color = color;
                iqm.LineWidth = 2;
                iqm.LegendText = group.Runs.Count > 1 ? $"{group.Name} (IQM of {group.Runs.Count} seeds, 95% CI)" : group.Name;
            }
            plot.Title($"{metric} vs {panels[p].Label}");
            plot.XLabel(panels[p].Label);
            plot.YLabel(metric);
            plot.ShowLegend(Alignment.LowerRight);
        }
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        multiplot.SavePng(path, width, height);
    }
}
