using System.IO.MemoryMappedFiles;
using DistillSpec.Models;

namespace DistillSpec.Formats.Gguf;

/// <summary>
/// A GGUF file's data section mapped read-only into memory. Bounds were checked when the header was
/// read; the file is checked again here, as it may have shrunk since.
/// </summary>
internal sealed unsafe class GgufTensorData : IDisposable
{
    private readonly GgufFile _file;
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _base;

    private GgufTensorData(GgufFile file, MemoryMappedFile map, MemoryMappedViewAccessor view)
    {
        _file = file;
        _map = map;
        _view = view;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _base = pointer + view.PointerOffset;
    }

    public static GgufTensorData Open(GgufFile file)
    {
        long end = file.Tensors.Count == 0 ? file.DataOffset : file.DataOffset + file.Tensors.Max(t => t.Offset + t.ByteSize);
        long length = new FileInfo(file.Path).Length;
        if (length < end)
            throw new ModelFormatException(file.Path, $"truncated: the tensors end at byte {end} but the file now has {length} bytes");
        var map = MemoryMappedFile.CreateFromFile(file.Path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            return new GgufTensorData(file, map, map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read));
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    /// <summary>A tensor's stored bytes, valid until Dispose.</summary>
    public ReadOnlySpan<byte> Bytes(GgufTensorInfo info)
    {
        if (info.ByteSize > int.MaxValue)
            throw new ModelFormatException(_file.Path, $"tensor '{info.Name}' holds {info.ByteSize} bytes, more than one read can take ({int.MaxValue})");
        return new ReadOnlySpan<byte>(Start(info), (int)info.ByteSize);
    }

    /// <summary>destination = the tensor's stored bytes from byte offset on; the pages read are given back (MappedPages).</summary>
    public void ReadBytes(GgufTensorInfo info, long offset, Span<byte> destination)
    {
        if (offset < 0 || offset + destination.Length > info.ByteSize)
            throw new ArgumentOutOfRangeException(nameof(offset), $"bytes [{offset}, {offset + destination.Length}) lie outside tensor '{info.Name}' ({info.ByteSize} bytes)");
        byte* from = Start(info) + offset;
        new ReadOnlySpan<byte>(from, destination.Length).CopyTo(destination);
        DistillSpec.IO.MappedPages.Release(from, destination.Length);
    }

    /// <summary>destination = the tensor's values as f32; destination holds exactly its elements.</summary>
    public void ReadSingle(GgufTensorInfo info, Span<float> destination)
    {
        if (destination.Length != info.ElementCount)
            throw new ArgumentException($"tensor '{info.Name}' has {info.ElementCount} values, the destination holds {destination.Length}", nameof(destination));
        // In pieces, so a tensor of more than 2 GB (a large f32 embedding) needs no span longer than int.MaxValue.
        const int Chunk = 1 << 20;
        byte* start = Start(info);
        int perBlock = GgmlTypes.BlockSize(info.Type), blockBytes = GgmlTypes.BlockBytes(info.Type);
        for (int done = 0; done < destination.Length; done += Chunk)
        {
            int n = Math.Min(Chunk, destination.Length - done);
            byte* from = start + (long)done / perBlock * blockBytes;
            int bytes = (int)GgmlTypes.ByteSize(info.Type, n);
            GgmlCodec.ToSingle(info.Type, new ReadOnlySpan<byte>(from, bytes), destination.Slice(done, n));
            DistillSpec.IO.MappedPages.Release(from, bytes);
        }
    }

    private byte* Start(GgufTensorInfo info) => _base + _file.DataOffset + info.Offset;

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
