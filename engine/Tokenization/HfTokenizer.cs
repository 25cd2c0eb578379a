namespace DistillSpec.Tokenization;

/// <summary>
/// The encoding pipeline of a tokenizer.json, in the reference's order: added tokens are cut out of the raw
/// text (stripping neighbouring whitespace where they ask for it), then each stretch between them is normalized,
/// pre-tokenized and handed piece by piece to the model.
/// </summary>
internal sealed class HfTokenizer(
    AddedTokenSplitter addedTokens,
    Func<string, string>? normalizer,
    PreTokenizerChain? preTokenizer,
    ITokenModel model)
{
    public void Encode(string text, List<int> ids)
    {
        List<(string Text, AddedToken? Token)> sections = addedTokens.Split(text);
        for (int i = 0; i < sections.Count; i++)
        {
            if (sections[i].Token is not AddedToken t) continue;
            if (t.LeftStrip && i > 0 && sections[i - 1].Token is null)
                sections[i - 1] = (TextNormalizers.TrimEndJs(sections[i - 1].Text), null);
            if (t.RightStrip && i + 1 < sections.Count && sections[i + 1].Token is null)
                sections[i + 1] = (TextNormalizers.TrimStartJs(sections[i + 1].Text), null);
        }

        for (int section = 0; section < sections.Count; section++)
        {
            var (stretch, token) = sections[section];
            if (token is AddedToken added)
            {
                ids.Add(added.Id);
                continue;
            }
            if (stretch.Length == 0) continue;
            string normalized = normalizer is null ? stretch : normalizer(stretch);
            if (normalized.Length == 0) continue;

            int start = ids.Count;
            if (preTokenizer is null) model.Encode(normalized, ids);
            else foreach (string piece in preTokenizer.Run(normalized, section)) model.Encode(piece, ids);
            if (model.FuseUnknown) FuseUnknown(ids, start, model.UnknownId);
        }
    }

    private static void FuseUnknown(List<int> ids, int start, int unknown)
    {
        if (unknown < 0) return;
        int write = start;
        for (int read = start; read < ids.Count; read++)
        {
            if (ids[read] == unknown && write > start && ids[write - 1] == unknown) continue;
            ids[write++] = ids[read];
        }
        ids.RemoveRange(write, ids.Count - write);
    }
}
