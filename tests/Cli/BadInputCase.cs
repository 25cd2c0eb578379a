using System.Text.Json.Nodes;
using DistillSpec.Models;
using DistillSpec.SafeTensors;

namespace DistillSpec.Tests.Cli;

public enum Expect { Error, Warning, Success }

/// <summary>
/// One row of the bad-input table: what to break in a copy of a good model directory, the
/// command line to run on it ({model}, {draft}, {out} and {run} are replaced by paths), and the
/// outcome: a usage or input error (exit code 1) whose output contains Text, a warning on stderr
/// containing Text with exit code 0, or plain success.
/// </summary>
public sealed record BadInputCase(string Name, Action<CaseDirectory>? Break, string CommandLine, Expect Outcome, string Text = "")
{
    public override string ToString() => Name;
}

/// <summary>The scratch directories of one case: model/ (a copy of the good model), out/ and run/.</summary>
public sealed class CaseDirectory(string root)
{
    public string Model { get; } = Path.Combine(root, "model");
    public string Out { get; } = Path.Combine(root, "out");
    public string Run { get; } = Path.Combine(root, "run");
    public string Root { get; } = root;

    public string File(string name) => Path.Combine(Model, name);

    public void Write(string name, string text) => System.IO.File.WriteAllText(File(name), text);

    public void WriteBytes(string name, byte[] bytes) => System.IO.File.WriteAllBytes(File(name), bytes);

    public void Delete(string name) => System.IO.File.Delete(File(name));

    /// <summary>Sets one config.json field to raw JSON (e.g. "1e20", "\"abc\"", "null"); null removes it.</summary>
    public void SetConfig(string field, string? rawJson) => EditJson("config.json", field, rawJson);

    public void EditJson(string file, string field, string? rawJson)
    {
        var node = JsonNode.Parse(System.IO.File.ReadAllText(File(file)))!.AsObject();
        if (rawJson is null) node.Remove(field);
        else node[field] = JsonNode.Parse(rawJson);
        Write(file, node.ToJsonString());
    }

    /// <summary>Rewrites model.safetensors after changing the weights (the config stays as it is on disk).</summary>
    public void EditWeights(Action<ModelWeights> edit, Action<SafeTensorsWriter>? extra = null)
    {
        var config = ModelConfig.Load(Model);
        var weights = HfCheckpoint.Load(Model, config);
        edit(weights);
        string configText = System.IO.File.ReadAllText(File("config.json"));
        HfCheckpoint.Save(weights, Model);
        System.IO.File.WriteAllText(File("config.json"), configText);
        if (extra is null) return;
        // Re-save with the additional tensors next to the ones the config implies.
        var writer = new SafeTensorsWriter();
        using (var files = SafeTensorsCollection.OpenDirectory(Model))
            foreach (string name in files.Names.ToList()) writer.Add(name, files.ReadFloat32(name), files.Info(name).Shape);
        extra(writer);
        writer.Save(File("model.safetensors"));
    }

    public void Link(string name, string target)
    {
        System.IO.File.Delete(File(name));
        System.IO.File.CreateSymbolicLink(File(name), target);
    }
}
