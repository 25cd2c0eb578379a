using System.Text.Json;

namespace DistillSpec.SafeTensors;

/// <summary>
/// All tensors of a model directory: either a single model.safetensors or the shards listed by
/// model.safetensors.index.json. Each shard is opened (and validated) once.
/// </summary>
public sealed class SafeTensorsCollection : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly List<SafeTensorsFile> _files;
    private readonly Dictionary<string, SafeTensorsFile> _owners;

    public string ModelDirectory { get; }
    public IEnumerable<string> Names => _owners.Keys;

    private SafeTensorsCollection(string directory, List<SafeTensorsFile> files, Dictionary<string, SafeTensorsFile> owners)
    {
        ModelDirectory = directory;
        _files = files;
        _owners = owners;
    }

    public static SafeTensorsCollection OpenDirectory(string modelDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDir);
        string dir = Path.GetFullPath(modelDir);
        if (!Directory.Exists(dir))
            throw SafeTensorsException.ForDirectory(dir, "directory does not exist");

        string single = Path.Combine(dir, SingleFileName);
        if (File.Exists(single))
        {
            Confine(dir, single);
            SafeTensorsFile file = SafeTensorsFile.Open(single);
            var owners = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
            foreach (string name in file.Tensors.Keys)
                owners.Add(name, file);
            return new SafeTensorsCollection(dir, [file], owners);
        }

        string index = Path.Combine(dir, IndexFileName);
        if (File.Exists(index))
        {
            Confine(dir, index);
            return OpenSharded(dir, index);
        }

        throw SafeTensorsException.ForDirectory(dir, $"contains neither {SingleFileName} nor {IndexFileName}");
    }

    private static SafeTensorsCollection OpenSharded(string dir, string index)
    {
        List<(string Tensor, string Shard)> weightMap = ReadWeightMap(index);
        var shards = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        var owners = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (var (tensor, shard) in weightMap)
            {
                if (!shards.TryGetValue(shard, out SafeTensorsFile? file))
                {
                    string shardPath = ResolveShard(dir, index, shard, tensor);
                    file = SafeTensorsFile.Open(shardPath);
                    shards.Add(shard, file);
                }
                if (!file.Contains(tensor))
                    throw SafeTensorsException.ForIndex(index, $"maps tensor '{tensor}' to shard '{shard}', but that shard has no such tensor");
                owners.Add(tensor, file);
            }
        }
        catch
        {
            foreach (SafeTensorsFile f in shards.Values)
                f.Dispose();
            throw;
        }
        return new SafeTensorsCollection(dir, shards.Values.ToList(), owners);
    }

    private static string ResolveShard(string dir, string index, string shard, string tensor)
    {
        string path = Path.GetFullPath(Path.Combine(dir, shard));
        // Shard names come from a file on disk; do not let one reach outside the model directory.
        if (Path.IsPathRooted(shard) || !path.StartsWith(dir.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw SafeTensorsException.ForIndex(index, $"shard name '{shard}' (for tensor '{tensor}') points outside the model directory");
        if (!File.Exists(path))
            throw SafeTensorsException.ForIndex(index, $"shard '{shard}' (for tensor '{tensor}') does not exist at '{path}'");
        Confine(dir, path);
        return path;
    }

    private static void Confine(string dir, string path)
    {
        if (Models.ModelFiles.Escape(dir, path) is { } problem) throw SafeTensorsException.ForFile(path, problem);
    }

    private static List<(string, string)> ReadWeightMap(string index)
    {
        byte[] bytes;
        try
        {
            if (new FileInfo(index).Length > SafeTensorsHeader.MaxHeaderBytes)
                throw SafeTensorsException.ForIndex(index, $"index file is larger than the cap of {SafeTensorsHeader.MaxHeaderBytes} bytes");
            bytes = File.ReadAllBytes(index);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw SafeTensorsException.ForIndex(index, $"cannot read index file ({e.Message})", e);
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw SafeTensorsException.ForIndex(index, $"index is not valid JSON ({e.Message})", e);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw SafeTensorsException.ForIndex(index, $"index is not a JSON object (found {doc.RootElement.ValueKind})");
            if (!doc.RootElement.TryGetProperty("weight_map", out JsonElement map))
                throw SafeTensorsException.ForIndex(index, "missing required field 'weight_map'");
            if (map.ValueKind != JsonValueKind.Object)
                throw SafeTensorsException.ForIndex(index, $"'weight_map' must be an object of tensor name to shard file (found {map.ValueKind})");

            var result = new List<(string, string)>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(entry.Value.GetString()))
                    throw SafeTensorsException.ForIndex(index, $"'weight_map' entry '{entry.Name}' must be a non-empty shard file name (found {entry.Value})");
                if (!seen.Add(entry.Name))
                    throw SafeTensorsException.ForIndex(index, $"'weight_map' lists tensor '{entry.Name}' twice");
                result.Add((entry.Name, entry.Value.GetString()!));
            }
            return result;
        }
    }

    public bool Contains(string name) => _owners.ContainsKey(name);

    public TensorInfo Info(string name) => Owner(name).Info(name);

    /// <summary>Raw bytes from the owning shard's mapping; valid until this collection is disposed.</summary>
    public ReadOnlySpan<byte> Bytes(string name) => Owner(name).Bytes(name);

    public void ReadFloat32(string name, Span<float> destination) => Owner(name).ReadFloat32(name, destination);

    public float[] ReadFloat32(string name) => Owner(name).ReadFloat32(name);

    private SafeTensorsFile Owner(string name) =>
        _owners.TryGetValue(name, out SafeTensorsFile? file)
            ? file
            : throw SafeTensorsException.ForDirectory(ModelDirectory, $"no tensor named '{name}'");

    public void Dispose()
    {
        foreach (SafeTensorsFile f in _files)
            f.Dispose();
    }
}
