using DistillSpec.Models;

namespace DistillSpec.Tokenization;

/// <summary>
/// The ids a tokenizer file assigns, checked before any table is sized by them: a negative id
/// indexed past the table, and one near 2^31 allocated tens of gigabytes.
/// </summary>
internal static class TokenIdCheck
{
    public static ByteLevelBpeSpec Checked(ByteLevelBpeSpec spec, string path)
    {
        var owners = new Dictionary<int, string>();
        foreach (var (token, id) in spec.Vocab)
        {
            Check(id, $"vocabulary entry '{token}'", path);
            if (!owners.TryAdd(id, token))
                throw new ModelFormatException(path, $"vocabulary entries '{owners[id]}' and '{token}' share id {id}");
        }
        foreach (AddedToken t in spec.AddedTokens) Check(t.Id, $"added token '{t.Content}'", path);
        return spec;
    }

    private static void Check(int id, string what, string path)
    {
        if (id < 0 || id >= ModelConfig.MaxVocab)
            throw new ModelFormatException(path, $"{what} has id {id}; ids must lie in [0, {ModelConfig.MaxVocab})");
    }
}
