using DistillSpec.Backends;
using DistillSpec.Profiling;

namespace DistillSpec;

/// <summary>Where and how a model is loaded.</summary>
public sealed record ModelOptions
{
    /// <summary>
    /// A device of <see cref="BackendRegistry"/>: "auto" (the default: the first GPU found, else the CPU),
    /// "cpu", or a GPU name such as "cuda" once DistillSpec.Kernels' GpuBackends.Register() has run.
    /// </summary>
    public string Device { get; init; } = BackendRegistry.Auto;

    /// <summary>Worker threads of the CPU backend; 0 for one per core.</summary>
    public int Threads { get; init; }

    /// <summary>How weight matrices are kept in memory; compute stays f32.</summary>
    public WeightFormat WeightFormat { get; init; } = WeightFormat.F32;

    /// <summary>When set, every kernel or backend op and every decoding phase is timed into it.</summary>
    public KernelProfiler? Profiler { get; init; }

    /// <summary>Reads every weight once more at load to refuse NaN and Inf, naming the tensor (one extra pass).</summary>
    public bool ScanWeights { get; init; }

    /// <summary>Receives problems that do not stop the load (e.g. a tensor tied embeddings ignore); null drops them.</summary>
    public Action<string>? Warning { get; init; }

    internal Models.ModelLoadOptions Loading => new() { ScanWeights = ScanWeights, Warning = Warning };

    internal void Validate(string name)
    {
        ArgumentNullException.ThrowIfNull(Device, $"{name}.{nameof(Device)}");
        if (!BackendRegistry.IsKnown(Device))
            throw new ArgumentException($"{name}.{nameof(Device)} '{Device}' is not a registered device; expected one of {string.Join(", ", BackendRegistry.Names)}");
        if (Threads < 0) throw new ArgumentOutOfRangeException($"{name}.{nameof(Threads)}", Threads, "must be >= 0 (0 = one per core)");
    }
}

/// <summary>How a target and its draft are loaded.</summary>
public sealed record SpeculativePairOptions
{
    public ModelOptions Target { get; init; } = new();

    /// <summary>
    /// The draft's placement; the CPU by default (the intended pairing is the target on a GPU and the
    /// draft on the CPU). When it names the device the target resolved to, both share one backend.
    /// </summary>
    public ModelOptions Draft { get; init; } = new() { Device = BackendRegistry.Cpu };

    /// <summary>
    /// Runs both models briefly at load so that JIT and kernel compilation are not timed as decoding,
    /// and measures one decode step of each, from which every call's cost ratio, MBSU and speed-up
    /// estimate are derived. Off: those stay null unless a call measures its own baseline.
    /// </summary>
    public bool WarmUp { get; init; } = true;
}
