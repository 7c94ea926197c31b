using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using RLAgents.Agents.Training;
using RLAgents.LanguageModel.Onnx;
using RLAgents.Policies.Export;

namespace RLAgents.Experiments.Cli;

/// <summary>
/// <c>rlagents export &lt;run dir|checkpoint&gt; --format onnx --out policy.onnx [--opset 17]</c>: the
/// policy's acting graph as ONNX (see <see cref="PolicyOnnxExporter"/>), its tokenizer folders beside it.
/// </summary>
internal static class ExportCommand
{
    public static Command Create(IServiceProvider services)
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "A checkpoint (.safetensors) written by a run, or a run directory (its latest checkpoint)." };
        var format = new Option<string>("--format") { Description = "Export format: onnx.", DefaultValueFactory = _ => "onnx" };
        var output = new Option<string>("--out") { Description = "The model file to write (e.g. policy.onnx); tokenizer folders go beside it.", Required = true };
        var opset = new Option<long>("--opset")
        {
            Description = $"ONNX opset, {OnnxGraphBuilder.MinOpset} to {OnnxGraphBuilder.MaxOpset} (17: LayerNormalization as one op; 15 for Unity's inference engine).",
            DefaultValueFactory = _ => OnnxGraphBuilder.MaxOpset,
        };
        var command = new Command("export", "Export a checkpoint's policy (its acting graph: observations in, logits or Q-values and the value out) to ONNX.")
            { checkpoint, format, output, opset };
        command.SetAction(parse =>
        {
            var console = services.GetRequiredService<CliConsole>();
            string path = parse.GetValue(checkpoint)!, target = parse.GetValue(output)!;
            if (parse.GetValue(format) is var f && f != "onnx") throw new UserError($"--format: '{f}' is not supported (onnx)");
            if (!File.Exists(path) && !Directory.Exists(path)) throw new UserError($"checkpoint '{path}' does not exist");
            using var trained = TrainedPolicy.Load(path);
            OnnxPolicyExport export;
            IReadOnlyList<string> folders;
            try
            {
                (export, folders) = PolicyOnnxExporter.ExportTo(trained.Policy, target,
                    new OnnxExportOptions { Opset = parse.GetValue(opset), Checkpoint = trained.CheckpointId, Step = trained.Step });
            }
            catch (OnnxExportException e)
            {
                throw new UserError($"cannot export {trained.CheckpointId}: {e.Message}");
            }
            var inv = CultureInfo.InvariantCulture;
            var graph = export.Model.Graph!;
            console.Out.WriteLine(string.Create(inv, $"exported {trained.CheckpointId} (step {trained.Step}) to {target}, opset {export.Model.DefaultOpsetVersion}, {new FileInfo(target).Length / 1024.0:F1} KiB"));
            foreach (var input in graph.Inputs) console.Out.WriteLine($"  input  {Describe(input)}");
            foreach (var o in graph.Outputs) console.Out.WriteLine($"  output {Describe(o)}");
            foreach (var folder in folders) console.Out.WriteLine($"  tokenizer {folder}");
            return RLAgentsCli.Ok;
        });
        return command;
    }

    private static string Describe(OnnxValueInfo value)
    {
        var tensor = value.Type!.TensorType!;
        return $"{value.Name} {tensor.ElementType.ToString()!.ToLowerInvariant()} [{string.Join(", ", tensor.Shape!.Dims)}]";
    }
}
