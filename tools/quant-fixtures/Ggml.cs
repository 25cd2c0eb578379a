using System.Runtime.InteropServices;

namespace DistillSpec.QuantFixtures;

/// <summary>
/// The two entry points of llama.cpp's libggml-base.so the fixtures need: ggml_quantize_chunk
/// (the reference quantizer, without an importance matrix) and a type's to_float (the reference
/// dequantizer), from the build LLamaSharp.Backend.Cpu ships.
/// </summary>
internal static unsafe partial class Ggml
{
    private const string Library = "ggml-base";

    // struct ggml_type_traits { const char* type_name; int64_t blck_size; int64_t blck_size_interleave;
    //   size_t type_size; bool is_quantized; ggml_to_float_t to_float; ggml_from_float_t from_float_ref; }
    [StructLayout(LayoutKind.Sequential)]
    private struct TypeTraits
    {
        public nint TypeName;
        public long BlockSize;
        public long BlockSizeInterleave;
        public nuint TypeSize;
        public byte IsQuantized;
        public delegate* unmanaged<void*, float*, long, void> ToFloat;
        public nint FromFloatRef;
    }

    [LibraryImport(Library, EntryPoint = "ggml_get_type_traits")]
    private static partial TypeTraits* GetTypeTraits(int type);

    [LibraryImport(Library, EntryPoint = "ggml_quantize_chunk")]
    private static partial nuint QuantizeChunk(int type, float* src, void* dst, long start, long rows, long perRow, float* imatrix);

    /// <summary>Loads the noavx build: ggml-base's reference code is plain C there, compiled without FMA contraction.</summary>
    public static void Load(string nativeRoot)
    {
        string path = Path.Combine(nativeRoot, "noavx", "libggml-base.so");
        var handle = NativeLibrary.Load(path);
        NativeLibrary.SetDllImportResolver(typeof(Ggml).Assembly, (name, _, _) => name == Library ? handle : 0);
    }

    /// <summary>Checks ggml agrees on the block shape, so a layout change in the struct or the format fails loudly.</summary>
    public static void CheckTraits(int type, string name, int blockWeights, int blockBytes)
    {
        var t = GetTypeTraits(type);
        string actual = Marshal.PtrToStringUTF8(t->TypeName) ?? "";
        if (actual != name || t->BlockSize != blockWeights || (int)t->TypeSize != blockBytes || t->ToFloat == null)
            throw new InvalidOperationException($"ggml type {type} is '{actual}' with blocks of {t->BlockSize} in {t->TypeSize} bytes; expected '{name}', {blockWeights}, {blockBytes}");
    }

    public static byte[] Quantize(int type, float[] x, int rows, int cols, int rowBytes)
    {
        var dst = new byte[rows * rowBytes];
        fixed (float* s = x)
        fixed (byte* d = dst)
        {
            nuint written = QuantizeChunk(type, s, d, 0, rows, cols, null);
            if ((long)written != dst.Length) throw new InvalidOperationException($"ggml_quantize_chunk wrote {written} bytes, expected {dst.Length}");
        }
        return dst;
    }

    public static float[] Dequantize(int type, byte[] blocks, int count)
    {
        var y = new float[count];
        fixed (byte* b = blocks)
        fixed (float* o = y)
            GetTypeTraits(type)->ToFloat(b, o, count);
        return y;
    }
}
