using ILGPU;

namespace DistillSpec.Kernels;

/// <summary>
/// y (rows, outDim) = x (rows, inDim) W (outDim, inDim)^T + bias; W is Hugging Face's Linear layout,
/// read through TWeights in its stored format (f32, BF16, Q8_0...) and expanded in registers.
/// </summary>
internal static class MatMulKernels
{
    // Decode (rows = 1): one group per output feature. Threads stride along the weight row so
    // neighbouring threads read neighbouring floats (coalesced), then the group sums the partials.
    // Dynamic shared memory: Group.DimX floats.
    public static void MatVec<TWeights>(ArrayView<float> x, TWeights weight, ArrayView<float> bias, int hasBias,
        int inDim, ArrayView<float> y) where TWeights : struct, IDeviceWeights
    {
        var scratch = SharedMemory.GetDynamic<float>();
        int o = Grid.IdxX, row = o * inDim;
        float sum = 0f;
        for (int i = Group.IdxX; i < inDim; i += Group.DimX) sum += x[i] * weight.At(row + i);
        sum = GroupReduce.Sum(scratch, sum);
        if (Group.IsFirstThread) y[o] = hasBias != 0 ? sum + bias[o] : sum;
    }

    // Prefill and verification (rows > 1): one group of tile x tile threads per (tile rows) x
    // (tile outputs) block of y. Each step stages a tile-wide slice of x and of W in shared memory,
    // so every weight read from global memory serves `tile` rows. Rows of a tile are padded to
    // tile + 1 floats so the transposed read of the W tile does not hit one bank. Groups are
    // ordered output-tile fastest: neighbours share the x tile in cache while W streams.
    // Dynamic shared memory: 2 * tile * (tile + 1) floats.
    public static void Tiled<TWeights>(ArrayView<float> x, TWeights weight, ArrayView<float> bias, int hasBias,
        int rows, int inDim, int outDim, int tile, ArrayView<float> y) where TWeights : struct, IDeviceWeights
    {
        var shared = SharedMemory.GetDynamic<float>();
        int pitch = tile + 1;
        var xTile = shared.SubView(0, tile * pitch);
        var wTile = shared.SubView(tile * pitch, tile * pitch);
        int outTiles = (outDim + tile - 1) / tile;
        int rowBase = Grid.IdxX / outTiles * tile, outBase = Grid.IdxX % outTiles * tile;
        int tx = Group.IdxX % tile, ty = Group.IdxX / tile;
        int loadRow = rowBase + ty, loadOut = outBase + ty;

        float sum = 0f;
        for (int k0 = 0; k0 < inDim; k0 += tile)
        {
            int k = k0 + tx;
            xTile[ty * pitch + tx] = loadRow < rows && k < inDim ? x[loadRow * inDim + k] : 0f;
            wTile[ty * pitch + tx] = loadOut < outDim && k < inDim ? weight.At(loadOut * inDim + k) : 0f;
            Group.Barrier();
            for (int j = 0; j < tile; j++) sum += xTile[ty * pitch + j] * wTile[tx * pitch + j];
            Group.Barrier();
        }

        int r = rowBase + ty, o = outBase + tx;
        if (r < rows && o < outDim) y[r * outDim + o] = hasBias != 0 ? sum + bias[o] : sum;
    }
}
