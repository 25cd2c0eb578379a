using DistillSpec.Profiling;

namespace DistillSpec.Backends;

/// <summary>How a backend is to be opened: worker threads for CPU backends, and an optional profiler.</summary>
/// <param name="Threads">Worker threads of a CPU backend; 0 for one per core.</param>
/// <param name="Profiler">Passed to backends that time their own launches (GPU backends); callers time the
/// others with <see cref="IBackend.Profiled"/>.</param>
public sealed record BackendOptions(int Threads = 0, KernelProfiler? Profiler = null);

/// <summary>A backend that was opened, and what the device name resolved to, in words for the user.</summary>
public sealed record OpenedBackend(IBackend Backend, string Description);

/// <summary>A requested device that is not there or cannot be opened.</summary>
public sealed class DeviceUnavailableException(string message, Exception? inner = null)
    : InvalidOperationException(message, inner);

/// <summary>One kind of device, registered once with <see cref="BackendRegistry"/>.</summary>
public interface IBackendProvider
{
    /// <summary>The device name users ask for ("cpu", "cuda", ...), lower case.</summary>
    string Name { get; }

    /// <summary>
    /// Order in which "auto" tries this provider, lowest first; null when auto never picks it (the CPU,
    /// which is auto's fallback, and emulators).
    /// </summary>
    int? AutoOrder { get; }

    /// <summary>Null when no such device is present here.</summary>
    /// <exception cref="DeviceUnavailableException">the device is present but cannot be used.</exception>
    OpenedBackend? TryOpen(BackendOptions options);

    /// <summary>What this provider can see on this machine, for error messages ("CUDA: NVIDIA H100").</summary>
    IReadOnlyList<string> ListDevices() => [];
}

/// <summary>
/// Every backend the process knows, by device name. The CPU SIMD backend is always registered; the GPU
/// backends register themselves when their assembly is asked to (DistillSpec.Kernels.GpuBackends.Register).
/// "auto" takes the first present device in AutoOrder and falls back to the CPU. Thread-safe.
/// </summary>
public static class BackendRegistry
{
    public const string Auto = "auto", Cpu = "cpu";

    private static readonly Lock Gate = new();
    private static readonly List<IBackendProvider> Providers = [new CpuProvider()];

    /// <summary>"auto" and every registered device name, in registration order.</summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            lock (Gate) return [Auto, .. Providers.Select(p => p.Name)];
        }
    }

    /// <summary>Registers a provider; registering one whose name is already known replaces it.</summary>
    public static void Register(IBackendProvider provider)
    {
        ArgumentNullException.ThrowIfNull(provider);
        lock (Gate)
        {
            int existing = Providers.FindIndex(p => p.Name == provider.Name);
            if (existing >= 0) Providers[existing] = provider;
            else Providers.Add(provider);
        }
    }

    // For tests that register a provider of their own.
    internal static void Unregister(string name)
    {
        lock (Gate) Providers.RemoveAll(p => p.Name == name && name != Cpu);
    }

    /// <summary>True when the name (any case, surrounding spaces ignored) is "auto" or a registered device.</summary>
    public static bool IsKnown(string device) => Names.Contains(Normalise(device));

    /// <exception cref="ArgumentException">the name is not registered.</exception>
    /// <exception cref="DeviceUnavailableException">the device is missing or cannot be used.</exception>
    public static OpenedBackend Open(string device, BackendOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        options ??= new BackendOptions();
        string name = Normalise(device);
        if (name == Auto) return OpenAuto(options);
        var provider = Find(name) ?? throw new ArgumentException(
            $"unknown device '{device}'; expected one of {string.Join(", ", Names)}", nameof(device));
        return provider.TryOpen(options) ?? throw NotFound(provider);
    }

    /// <summary>
    /// Whether a model asking for device `other` should share `opened` (opened for `device`): the same name,
    /// or the CPU asked for when the first device resolved to it, since two CPU backends would fight over the cores.
    /// </summary>
    public static bool SameDevice(string device, string other, IBackend opened) =>
        Normalise(device) == Normalise(other) || Normalise(other) == Cpu && opened.Kind == BackendKind.Cpu;

    private static string Normalise(string device) => device.Trim().ToLowerInvariant();

    private static IBackendProvider? Find(string name)
    {
        lock (Gate) return Providers.Find(p => p.Name == name);
    }

    // A device that is present but fails to open is skipped, and the description says why.
    private static OpenedBackend OpenAuto(BackendOptions options)
    {
        IBackendProvider[] candidates;
        lock (Gate) candidates = Providers.Where(p => p.AutoOrder is not null).OrderBy(p => p.AutoOrder).ToArray();
        var skipped = new List<string>();
        foreach (var provider in candidates)
        {
            try
            {
                if (provider.TryOpen(options) is { } opened) return opened with { Description = "auto: " + opened.Description };
            }
            catch (DeviceUnavailableException e)
            {
                skipped.Add(e.Message);
            }
        }
        string why = skipped.Count > 0 ? string.Join("; ", skipped)
            : candidates.Length == 0 ? "no GPU backend registered" : $"no {string.Join(" or ", candidates.Select(p => p.Name))} device";
        var cpu = Find(Cpu)!.TryOpen(options)!;
        return cpu with { Description = $"auto: {why}, so {cpu.Description}" };
    }

    private static DeviceUnavailableException NotFound(IBackendProvider provider)
    {
        var seen = provider.ListDevices();
        string sees = seen.Count == 0 ? "" : $"; visible: {string.Join("; ", seen)}";
        return new DeviceUnavailableException($"no {provider.Name} device found{sees}. Use device auto or cpu.");
    }

    private sealed class CpuProvider : IBackendProvider
    {
        public string Name => Cpu;
        public int? AutoOrder => null;

        public OpenedBackend TryOpen(BackendOptions options)
        {
            var simd = new SimdBackend(options.Threads);
            return new OpenedBackend(simd, $"cpu: {simd.Name}");
        }
    }
}
