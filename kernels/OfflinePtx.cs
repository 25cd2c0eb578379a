using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace DistillSpec.Kernels;

/// <summary>One kernel compiled to PTX for one NVIDIA architecture (the device's; the PTX's own .target may be lower).</summary>
public sealed record PtxKernel(string Name, string Architecture, string Assembly);

/// <summary>
/// Compiles every kernel of KernelCatalog with ILGPU's PTX backend for a given architecture and
/// PTX instruction set, with no CUDA driver or device: the code a CUDA accelerator would load. As
/// on a device, ILGPU writes the lowest .target that has the features the kernels use (sm_80 for an
/// sm_90 device too) and the driver compiles it for the device's architecture; on a device ILGPU
/// takes the newest ISA its driver accepts, which changes the header, not the code.
/// </summary>
public static class OfflinePtx
{
    /// <summary>
    /// PTX ISA 7.8: the newest that CUDA 11.8's ptxas (Debian bookworm's) assembles, and accepted
    /// by every driver from 520 on; it covers sm_80 (A100) and sm_90 (H100/H200).
    /// </summary>
    public static readonly CudaInstructionSet InstructionSet = CudaInstructionSet.ISA_78;

    public static readonly IReadOnlyList<CudaArchitecture> Architectures = [CudaArchitecture.SM_80, CudaArchitecture.SM_90];

    /// <summary>"sm_80" for 8.0.</summary>
    public static string Name(CudaArchitecture architecture) => $"sm_{architecture.Major}{architecture.Minor}";

    public static IReadOnlyList<PtxKernel> Compile(CudaArchitecture architecture) => Compile(architecture, InstructionSet);

    public static IReadOnlyList<PtxKernel> Compile(CudaArchitecture architecture, CudaInstructionSet instructionSet)
    {
        // The same context settings as the accelerators the backend runs on (XMath needs the algorithms).
        using var context = Context.Create(b => b.EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, instructionSet, nvvmAPI: null);
        var kernels = new List<PtxKernel>();
        foreach (var kernel in KernelCatalog.All)
        {
            var entry = kernel.ImplicitlyGrouped
                ? EntryPointDescription.FromImplicitlyGroupedKernel(kernel.Method)
                : EntryPointDescription.FromExplicitlyGroupedKernel(kernel.Method);
            var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
            kernels.Add(new PtxKernel(kernel.Name, Name(architecture), compiled.PTXAssembly));
        }
        return kernels;
    }
}
