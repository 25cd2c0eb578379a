using DistillSpec.Backends;

namespace DistillSpec.Tests.Backends;

/// <summary>
/// Runs one op on the scalar reference and on a backend under test with copies of the same
/// random inputs, and compares one of the tensors: the core of every cross-backend op test.
/// </summary>
internal sealed class ReferenceComparison(int seed = 1234)
{
    private readonly ScalarBackend _reference = new();
    private readonly Random _random = new(seed);

    public float[] RandomArray(int n, float scale = 1f) =>
        Enumerable.Range(0, n).Select(_ => (float)(_random.NextDouble() * 2 - 1) * scale).ToArray();

    /// <summary>Runs op on both backends and compares tensor `checkIndex`; tolerance is relative to the output's scale.</summary>
    public void Compare(IBackend backend, float[][] inputs, Action<IBackend, Tensor[]> op, int checkIndex, float tolerance = 1e-4f)
    {
        var refTensors = inputs.Select(a => _reference.Upload(a)).ToArray();
        var testTensors = inputs.Select(a => backend.Upload(a)).ToArray();
        try
        {
            op(_reference, refTensors);
            op(backend, testTensors);
            var expected = new float[inputs[checkIndex].Length];
            var actual = new float[inputs[checkIndex].Length];
            _reference.Download(refTensors[checkIndex], 0, expected);
            backend.Download(testTensors[checkIndex], 0, actual);
            AssertClose(expected, actual, tolerance);
        }
        finally
        {
            foreach (var t in testTensors) t.Dispose();
        }
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = 1e-6f;
        foreach (float e in expected) scale = Math.Max(scale, Math.Abs(e));
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1f, scale),
                $"index {i}: expected {expected[i]}, got {actual[i]} (tolerance {tolerance} x scale {scale})");
    }
}
