using System.CommandLine;
using System.Text;
using System.Text.Json;
using DistillSpec.Kernels;
using DistillSpec.IO;
using Spectre.Console;

namespace DistillSpec.Bench;

/// <summary>
/// Every kernel compiled offline to PTX for sm_80 and sm_90 and, where ptxas is installed
/// (tools/gpu/install-ptxas.sh), assembled for each, with registers, spills and static shared
/// memory per kernel: reports/ptx-kernels.md and .json. Needs no GPU.
/// </summary>
internal static class PtxBenchCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "report path without extension (.md and .json are written)", DefaultValueFactory = _ => "reports/ptx-kernels" };
        var command = new Command("ptx", "compile every kernel to PTX for sm_80 and sm_90 offline; with ptxas, a register/spill/shared-memory table") { output };
        command.SetAction(r => Run(r.GetValue(output)!));
        return command;
    }

    private static int Run(string output)
    {
        var compiled = OfflinePtx.Architectures.Select(OfflinePtx.Compile).ToList();
        AnsiConsole.MarkupLine($"compiled {compiled[0].Count} kernels to PTX (ISA {OfflinePtx.InstructionSet}) for "
            + string.Join(" and ", OfflinePtx.Architectures.Select(OfflinePtx.Name)) + " each, without a driver");
        string? ptxas = PtxAssembler.Find();
        if (ptxas is null)
        {
            AnsiConsole.MarkupLine("[yellow]ptxas not found[/] (set DSPEC_PTXAS, put it on PATH, or run tools/gpu/install-ptxas.sh as root): "
                + "PTX generated, not assembled; no register table written");
            return 0;
        }

        string version = PtxAssembler.Version(ptxas);
        var stats = compiled.SelectMany(kernels => kernels.Select(k => PtxAssembler.Assemble(ptxas, k))).ToList();
        var byKernel = stats.GroupBy(s => s.Kernel).ToList();
        var architectures = OfflinePtx.Architectures.Select(OfflinePtx.Name).ToList();

        var table = new Table().Title($"Kernels assembled by ptxas ({Markup.Escape(version)})").AddColumn("kernel");
        foreach (string a in architectures) table.AddColumn($"{a} regs").AddColumn($"{a} spill st/ld B").AddColumn($"{a} smem B");
        var markdown = new StringBuilder()
            .AppendLine("# Kernels assembled for NVIDIA GPUs")
            .AppendLine()
            .AppendLine($"Written by `dspec-bench ptx` (tools/gpu/check.sh runs it). ILGPU {typeof(ILGPU.Context).Assembly.GetName().Version} compiles every kernel "
                + $"to PTX ISA {OfflinePtx.InstructionSet} without a driver; `{version}` assembles it for each architecture (`ptxas -v`). "
                + "Registers are per thread; spills are bytes of local-memory stores/loads per thread; shared memory is static only: "
                + "every kernel takes its shared memory dynamically, sized per launch by the group size (256 threads on a GPU).")
            .AppendLine()
            .Append("| kernel |");
        foreach (string a in architectures) markdown.Append($" {a} registers | {a} spill stores / loads (B) | {a} static shared (B) |");
        markdown.AppendLine().Append("|---|").AppendLine(string.Concat(architectures.Select(_ => "---:|---:|---:|")));
        foreach (var kernel in byKernel)
        {
            var cells = new List<string> { kernel.Key };
            markdown.Append($"| `{kernel.Key}` |");
            foreach (string a in architectures)
            {
                var s = kernel.Single(x => x.Architecture == a);
                cells.AddRange([$"{s.Registers}", $"{s.SpillStoreBytes}/{s.SpillLoadBytes}", $"{s.SharedBytes}"]);
                markdown.Append($" {s.Registers} | {s.SpillStoreBytes} / {s.SpillLoadBytes} | {s.SharedBytes} |");
            }
            table.AddRow(cells.Select(Markup.Escape).ToArray());
            markdown.AppendLine();
        }
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;
        AnsiConsole.Write(table);

        var report = new Dictionary<string, object>
        {
            ["ptxas"] = version,
            ["ptx_isa"] = OfflinePtx.InstructionSet.ToString(),
            ["ilgpu"] = typeof(ILGPU.Context).Assembly.GetName().Version?.ToString() ?? "",
            ["kernels"] = stats.Select(s => new Dictionary<string, object>
            {
                ["kernel"] = s.Kernel, ["architecture"] = s.Architecture, ["registers"] = s.Registers,
                ["spill_store_bytes"] = s.SpillStoreBytes, ["spill_load_bytes"] = s.SpillLoadBytes,
                ["stack_bytes"] = s.StackBytes, ["static_shared_bytes"] = s.SharedBytes,
            }).ToList(),
        };
        AtomicFile.WriteAllText(output + ".json", JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
        AtomicFile.WriteAllText(output + ".md", markdown.ToString());
        AnsiConsole.MarkupLine($"report: [blue]{Markup.Escape(output)}.md[/] and .json");
        return 0;
    }
}
