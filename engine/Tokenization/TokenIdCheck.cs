using DistillSpec.Models;

namespace DistillSpec.Tokenization;

/// <summary>
/// The ids a tokenizer file assigns, checked before any table is sized by them: a negative id
/// indexed past the table, and one near 2^31 allocated tens of gigabytes (or overflowed the count).
/// Vocabulary entries must have distinct ids; an added token may reuse an entry's id.
/// </summary>
internal static class TokenIdCheck
{
    /// <returns>The number of ids: the highest plus one.</returns>
    public static int Count(IEnumerable<(string Text, int Id)> vocabulary, IEnumerable<AddedToken> added, string path)
    {
        var owners = new Dictionary<int, string>();
        int highest = -1;
        foreach (var (text, id) in vocabulary)
        {
            Check(id, $"vocabulary entry '{text}'", path);
            if (!owners.TryAdd(id, text))
                throw new ModelFormatException(path, $"vocabulary entries '{owners[id]}' and '{text}' share id {id}");
            highest = Math.Max(highest, id);
        }
        foreach (AddedToken t in added)
        {
            Check(t.Id, $"added token '{t.Content}'", path);
            highest = Math.Max(highest, t.Id);
        }
        return highest + 1;
    }

    private static void Check(int id, string what, string path)
    {
        if (id < 0 || id >= ModelConfig.MaxVocab)
            throw new ModelFormatException(path, $"{what} has id {id}; ids must lie in [0, {ModelConfig.MaxVocab})");
    }
}
