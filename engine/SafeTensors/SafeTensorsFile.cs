using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using DistillSpec.Numerics;

namespace DistillSpec.SafeTensors;

/// <summary>
/// A read-only, memory-mapped safetensors file. The header is fully validated before the mapping is created,
/// so every offset handed out afterwards lies inside the file. Spans from <see cref="Bytes"/> point into the
/// mapping and must not be used after <see cref="Dispose"/>. Data is assumed little-endian, as the format specifies.
/// </summary>
public sealed unsafe class SafeTensorsFile : IDisposable
{
    private const int PrefixBytes = 8;

    private readonly Dictionary<string, TensorInfo> _tensors;
    private readonly MemoryMappedFile _mapping;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _data;
    private bool _disposed;

    public string Path { get; }
    public IReadOnlyDictionary<string, TensorInfo> Tensors => _tensors;
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafeTensorsFile(string path, Dictionary<string, TensorInfo> tensors, Dictionary<string, string> metadata,
        MemoryMappedFile mapping, long dataStart)
    {
        Path = path;
        _tensors = tensors;
        Metadata = metadata;
        _mapping = mapping;
        _view = mapping.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* basePtr = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
        _data = basePtr + _view.PointerOffset + dataStart;
    }

    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = System.IO.Path.GetFullPath(path);
        FileStream stream;
        try
        {
            stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.RandomAccess);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw SafeTensorsException.ForFile(full, $"cannot open file ({e.Message})", e);
        }

        MemoryMappedFile? mapping = null;
        try
        {
            long length = stream.Length;
            if (length < PrefixBytes)
                throw SafeTensorsException.ForFile(full, $"file is truncated: {length} bytes, shorter than the 8-byte header length prefix");

            Span<byte> prefix = stackalloc byte[PrefixBytes];
            stream.ReadExactly(prefix);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > SafeTensorsHeader.MaxHeaderBytes)
                throw SafeTensorsException.ForFile(full,
                    $"header length {headerLength} exceeds the cap of {SafeTensorsHeader.MaxHeaderBytes} bytes (100 MB)");
            if (headerLength > (ulong)(length - PrefixBytes))
                throw SafeTensorsException.ForFile(full,
                    $"header length {headerLength} extends past the end of the file ({length} bytes)");

            var header = new byte[headerLength];
            stream.ReadExactly(header);
            long dataStart = PrefixBytes + (long)headerLength;
            var (tensors, metadata) = SafeTensorsHeader.Parse(header, length - dataStart, full);

            mapping = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read,
                HandleInheritability.None, leaveOpen: false);
            return new SafeTensorsFile(full, tensors, metadata, mapping, dataStart);
        }
        catch
        {
            mapping?.Dispose();
            stream.Dispose();
            throw;
        }
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public TensorInfo Info(string name) =>
        _tensors.TryGetValue(name, out TensorInfo? info)
            ? info
            : throw SafeTensorsException.ForTensor(Path, name, "no such tensor in this file");

    public ReadOnlySpan<byte> Bytes(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        TensorInfo info = Info(name);
        if (info.ByteLength > int.MaxValue)
            throw SafeTensorsException.ForTensor(Path, name, $"{info.ByteLength} bytes is too large for a single span");
        return new ReadOnlySpan<byte>(_data + info.Begin, (int)info.ByteLength);
    }

    public void ReadFloat32(string name, Span<float> destination)
    {
        TensorInfo info = Info(name);
        if (destination.Length != info.ElementCount)
            throw new ArgumentException(
                $"Tensor '{name}' in '{Path}' has {info.ElementCount} elements but the destination holds {destination.Length}.",
                nameof(destination));
        ReadOnlySpan<byte> bytes = Bytes(name);
        switch (info.DType)
        {
            case DType.F32:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(destination);
                break;
            case DType.F16:
                FloatConversion.HalfToSingle(MemoryMarshal.Cast<byte, Half>(bytes), destination);
                break;
            case DType.BF16:
                FloatConversion.BFloat16ToSingle(MemoryMarshal.Cast<byte, ushort>(bytes), destination);
                break;
            default:
                throw new InvalidOperationException($"Unhandled dtype {info.DType}.");
        }
        IO.MappedPages.Release(_data + info.Begin, info.ByteLength);
    }

    public float[] ReadFloat32(string name)
    {
        TensorInfo info = Info(name);
        if (info.ElementCount > Array.MaxLength)
            throw SafeTensorsException.ForTensor(Path, name, $"{info.ElementCount} elements is too many for one array");
        var result = new float[info.ElementCount];
        ReadFloat32(name, result);
        return result;
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _mapping.Dispose();
    }
}
