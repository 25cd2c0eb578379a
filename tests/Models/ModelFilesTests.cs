using DistillSpec.Models;

namespace DistillSpec.Tests.Models;

public class ModelFilesTests
{
    [Fact]
    public void LinksInsideTheDirectoryAndIntoTheHubCacheBlobsAreAllowed_OthersAreNot()
    {
        using var dir = new TempDirectory();
        // Hugging Face's cache: models--org--name/snapshots/REV/config.json -> ../../blobs/HASH
        string repo = dir.File("models--org--tiny");
        string snapshot = Path.Combine(repo, "snapshots", "abc123");
        Directory.CreateDirectory(snapshot);
        Directory.CreateDirectory(Path.Combine(repo, "blobs"));
        File.WriteAllText(Path.Combine(repo, "blobs", "f00d"), "{}");
        File.CreateSymbolicLink(Path.Combine(snapshot, "config.json"), "../../blobs/f00d");
        File.WriteAllText(Path.Combine(snapshot, "real.json"), "{}");
        File.CreateSymbolicLink(Path.Combine(snapshot, "inside.json"), "real.json");
        File.WriteAllText(dir.File("secret.txt"), "x");
        File.CreateSymbolicLink(Path.Combine(snapshot, "tokenizer.json"), dir.File("secret.txt"));

        Assert.Null(ModelFiles.Escape(snapshot, Path.Combine(snapshot, "config.json")));
        Assert.Null(ModelFiles.Escape(snapshot, Path.Combine(snapshot, "inside.json")));
        Assert.Null(ModelFiles.Escape(snapshot, Path.Combine(snapshot, "absent.json")));
        var error = Assert.Throws<ModelFormatException>(() => ModelFiles.EnsureTokenizerFilesInside(snapshot));
        Assert.Contains("tokenizer.json: is a link to", error.Message);
        Assert.Contains("secret.txt', outside the model directory", error.Message);
    }
}
