using DistillSpec.SafeTensors;

namespace DistillSpec.Tests.SafeTensors;

public class SafeTensorsCollectionTests
{
    private const string Shard1 = "model-00001-of-00002.safetensors";
    private const string Shard2 = "model-00002-of-00002.safetensors";

    private static void WriteShards(TempDirectory dir)
    {
        new SafeTensorsWriter().Add("embed", [1f, 2f, 3f, 4f], [2, 2]).Add("norm", [0.5f], [1], DType.BF16).Save(dir.File(Shard1));
        new SafeTensorsWriter().Add("head", [5f, 6f], [2], DType.F16).Save(dir.File(Shard2));
    }

    private static void WriteIndex(TempDirectory dir, string weightMap) =>
        File.WriteAllText(dir.File(SafeTensorsCollection.IndexFileName),
            $"{{\"metadata\":{{\"total_size\":26}},\"weight_map\":{weightMap}}}");

    private const string GoodMap = $"{{\"embed\":\"{Shard1}\",\"norm\":\"{Shard1}\",\"head\":\"{Shard2}\"}}";

    [Fact]
    public void ShardedDirectory_ReadsEveryTensorAcrossShards()
    {
        using var dir = new TempDirectory();
        WriteShards(dir);
        WriteIndex(dir, GoodMap);

        using var model = SafeTensorsCollection.OpenDirectory(dir.Path);
        Assert.Equal(new[] { "embed", "norm", "head" }, model.Names);
        Assert.True(model.Contains("head"));
        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, model.ReadFloat32("embed"));
        Assert.Equal(new[] { 0.5f }, model.ReadFloat32("norm"));
        var head = new float[2];
        model.ReadFloat32("head", head);
        Assert.Equal(new[] { 5f, 6f }, head);
        Assert.Equal(DType.F16, model.Info("head").DType);
        Assert.Equal(4, model.Bytes("head").Length);
    }

    [Fact]
    public void SingleFile_IsPreferredOverIndex()
    {
        using var dir = new TempDirectory();
        new SafeTensorsWriter().Add("only", [7f], [1]).Save(dir.File(SafeTensorsCollection.SingleFileName));
        WriteIndex(dir, "{\"ghost\":\"nowhere.safetensors\"}");

        using var model = SafeTensorsCollection.OpenDirectory(dir.Path);
        Assert.Equal(new[] { "only" }, model.Names);
        Assert.Equal(new[] { 7f }, model.ReadFloat32("only"));
    }

    [Fact]
    public void MissingTensor_NamesDirectoryAndTensor()
    {
        using var dir = new TempDirectory();
        new SafeTensorsWriter().Add("only", [7f], [1]).Save(dir.File(SafeTensorsCollection.SingleFileName));
        using var model = SafeTensorsCollection.OpenDirectory(dir.Path);

        var ex = Assert.Throws<SafeTensorsException>(() => model.Info("nope"));
        Assert.Contains(dir.Path, ex.Message);
        Assert.Contains("'nope'", ex.Message);
    }

    [Fact]
    public void DirectoryWithoutWeights_NamesTheDirectory()
    {
        using var dir = new TempDirectory();
        var ex = Assert.Throws<SafeTensorsException>(() => SafeTensorsCollection.OpenDirectory(dir.Path));
        Assert.Contains(dir.Path, ex.Message);
        Assert.Contains("neither", ex.Message);

        string absent = Path.Combine(dir.Path, "absent");
        Assert.Contains("does not exist", Assert.Throws<SafeTensorsException>(() => SafeTensorsCollection.OpenDirectory(absent)).Message);
    }

    [Theory]
    [InlineData("missing shard", "{\"embed\":\"model-00009-of-00009.safetensors\"}", "model-00009-of-00009.safetensors' (for tensor 'embed') does not exist")]
    [InlineData("tensor not in shard", $"{{\"embed\":\"{Shard2}\"}}", "maps tensor 'embed' to shard")]
    [InlineData("escaping shard", "{\"embed\":\"../outside.safetensors\"}", "points outside the model directory")]
    [InlineData("non-string shard", "{\"embed\":3}", "must be a non-empty shard file name")]
    [InlineData("weight_map not object", "[]", "'weight_map' must be an object")]
    public void BadIndex_NamesTheIndexFile(string name, string weightMap, string phrase)
    {
        _ = name;
        using var dir = new TempDirectory();
        WriteShards(dir);
        WriteIndex(dir, weightMap);

        var ex = Assert.Throws<SafeTensorsException>(() => SafeTensorsCollection.OpenDirectory(dir.Path));
        Assert.Contains(SafeTensorsCollection.IndexFileName, ex.Message);
        Assert.Contains(phrase, ex.Message);
    }

    [Theory]
    [InlineData("{\"weight_map\": ", "not valid JSON")]
    [InlineData("{\"metadata\": {}}", "missing required field 'weight_map'")]
    [InlineData("42", "not a JSON object")]
    public void MalformedIndexJson_NamesTheIndexFile(string json, string phrase)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File(SafeTensorsCollection.IndexFileName), json);

        var ex = Assert.Throws<SafeTensorsException>(() => SafeTensorsCollection.OpenDirectory(dir.Path));
        Assert.Contains(SafeTensorsCollection.IndexFileName, ex.Message);
        Assert.Contains(phrase, ex.Message);
    }

    [Fact]
    public void CorruptShard_ReportsTheShardFile()
    {
        using var dir = new TempDirectory();
        WriteShards(dir);
        File.WriteAllBytes(dir.File(Shard2), [1, 2, 3]);
        WriteIndex(dir, GoodMap);

        var ex = Assert.Throws<SafeTensorsException>(() => SafeTensorsCollection.OpenDirectory(dir.Path));
        Assert.Contains(Shard2, ex.Message);
        Assert.Contains("truncated", ex.Message);
    }
}
