using DistillSpec.Backends;
using DistillSpec.Profiling;

namespace DistillSpec.Tests.Backends;

// Tests that change or read what auto sees share a collection, so they never interleave.
[CollectionDefinition(nameof(BackendRegistry))]
public class BackendRegistryCollection;

[Collection(nameof(BackendRegistry))]
public class BackendRegistryTests
{
    [Fact]
    public void CpuIsTheSimdBackend()
    {
        var opened = BackendRegistry.Open("cpu", new BackendOptions(Threads: 2));
        using var backend = opened.Backend;
        Assert.IsType<SimdBackend>(backend);
        Assert.Equal(BackendKind.Cpu, backend.Kind);
        Assert.Null(backend.CreateVerifier());
        Assert.Contains("cpu-simd (2 threads)", opened.Description);
    }

    [Fact]
    public void UnknownNamesListTheChoices()
    {
        var error = Assert.Throws<ArgumentException>(() => BackendRegistry.Open("tpu"));
        Assert.Contains("unknown device 'tpu'", error.Message);
        Assert.Contains("auto, cpu", error.Message);
        Assert.False(BackendRegistry.IsKnown("tpu"));
        Assert.True(BackendRegistry.IsKnown(" CPU "));
    }

    [Fact]
    public void AProviderThatIsPresentButBrokenIsSkippedByAutoWithTheReason()
    {
        var name = "broken-" + Guid.NewGuid().ToString("N")[..8];
        BackendRegistry.Register(new BrokenProvider(name));
        try
        {
            var opened = BackendRegistry.Open("auto", new BackendOptions(Threads: 1));
            using var backend = opened.Backend;
            Assert.Contains($"{name} is present but broken", opened.Description);
            var direct = Assert.Throws<DeviceUnavailableException>(() => BackendRegistry.Open(name));
            Assert.Contains("present but broken", direct.Message);
        }
        finally
        {
            BackendRegistry.Unregister(name);
        }
    }

    [Fact]
    public void ProfiledCpuBackendsTimeEveryOpAndKeepTheirKind()
    {
        var profiler = new KernelProfiler();
        using var backend = ((IBackend)new SimdBackend(1)).Profiled(profiler, KernelProfiler.DraftThread);
        Assert.Equal(BackendKind.Cpu, backend.Kind);
        using var x = backend.Upload([1f, 2f]);
        backend.Add(x, x, 2);
        Assert.Contains(profiler.Events, e => e.Name == "Add" && e.Thread == KernelProfiler.DraftThread);
    }

    [Fact]
    public void SharingADeviceFollowsWhatTheFirstResolvedTo()
    {
        using var cpu = new SimdBackend(1);
        Assert.True(BackendRegistry.SameDevice("auto", "cpu", cpu));
        Assert.True(BackendRegistry.SameDevice("cuda", " CUDA", cpu));
        Assert.False(BackendRegistry.SameDevice("cpu", "auto", cpu));
    }

    // AutoOrder far beyond any real device, so auto meets it after the GPUs that may be present.
    private sealed class BrokenProvider(string name) : IBackendProvider
    {
        public string Name => name;
        public int? AutoOrder => int.MaxValue;
        public OpenedBackend TryOpen(BackendOptions options) => throw new DeviceUnavailableException($"{name} is present but broken");
    }
}
