using DistillSpec.Formats.Gguf;
using DistillSpec.IO;

namespace DistillSpec.Tests.IO;

public class AtomicFileTests
{
    [Fact]
    public void AFailedWriteKeepsTheGoodFileAndLeavesNoTemporary()
    {
        using var dir = new TempDirectory();
        string path = dir.File("model.gguf");
        new GgufWriter().Add("name", "good").AddTensor("x", [1f, 2f], [2]).Save(path);
        byte[] good = File.ReadAllBytes(path);

        // A full disk surfaces as an IOException part-way through the write.
        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write(new byte[4096]);
            throw new IOException("No space left on device");
        }));

        Assert.Equal(good, File.ReadAllBytes(path));
        Assert.Equal(["model.gguf"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void AWriteReplacesTheFileWhole()
    {
        using var dir = new TempDirectory();
        string path = dir.File("sub/config.json");
        AtomicFile.WriteAllText(path, "{\"a\": 1, \"padding\": \"a longer first version\"}");
        AtomicFile.WriteAllText(path, "{\"a\": 2}");
        Assert.Equal("{\"a\": 2}", File.ReadAllText(path));
    }
}
