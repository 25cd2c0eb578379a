using DistillSpec.Backends;
using DistillSpec.Kernels;

namespace DistillSpec.Tests.Backends;

/// <summary>
/// Every backend BackendRegistry opens on this machine (cpu, ilgpu-cpu on the emulator, cuda or
/// opencl where present), each opened once per test process: opening an ILGPU backend compiles its
/// kernels, the slow part of the emulated tests. The theory data of the cross-backend suite comes
/// from here, so a machine with a GPU tests it without any change. CpuAcceleratorFixture disposes
/// them when the last emulated test has run.
/// </summary>
internal static class RegisteredBackends
{
    // The CPU backend runs at three threads so the suite also splits work unevenly across workers.
    private static readonly BackendOptions Options = new(Threads: 3);
    private static readonly Lock Gate = new();
    private static Dictionary<string, IBackend>? _opened;

    /// <summary>The registered device names that open here, in registration order.</summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            lock (Gate) return [.. Opened().Keys];
        }
    }

    public static IBackend Get(string name)
    {
        lock (Gate)
            return Opened().TryGetValue(name, out var backend) ? backend
                : throw new ArgumentException($"device '{name}' does not open on this machine; it has {string.Join(", ", Opened().Keys)}");
    }

    /// <summary>Backend names, one theory row each.</summary>
    public static TheoryData<string> Cases() => new(Names);

    /// <summary>(backend, weight format) for every format each backend stores, f32 first.</summary>
    public static TheoryData<string, WeightFormat> CasesWithFormats()
    {
        var data = new TheoryData<string, WeightFormat>();
        foreach (string name in Names)
            foreach (var format in Enum.GetValues<WeightFormat>())
                if (Get(name).Supports(format)) data.Add(name, format);
        return data;
    }

    public static void DisposeAll()
    {
        lock (Gate)
        {
            foreach (var backend in _opened?.Values ?? Enumerable.Empty<IBackend>()) backend.Dispose();
            _opened = null;
        }
    }

    private static Dictionary<string, IBackend> Opened()
    {
        if (_opened is not null) return _opened;
        GpuBackends.Register();
        var opened = new Dictionary<string, IBackend>();
        foreach (string name in BackendRegistry.Names.Where(n => n != BackendRegistry.Auto))
        {
            try
            {
                opened[name] = BackendRegistry.Open(name, Options).Backend;
            }
            catch (DeviceUnavailableException)
            {
                // not on this machine
            }
        }
        return _opened = opened;
    }
}
