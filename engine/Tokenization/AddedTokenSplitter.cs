using System.Buffers;

namespace DistillSpec.Tokenization;

/// <summary>
/// Cuts added tokens out of text: scanning left to right, the longest added token starting at each position
/// is taken (as the reference's trie does), and the text between matches is left for the model.
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly List<Dictionary<char, int>> _children = [[]];
    private readonly List<int> _tokenAt = [-1];
    private readonly AddedToken[] _tokens;
    private readonly SearchValues<char> _firstChars;

    public AddedTokenSplitter(IReadOnlyList<AddedToken> tokens)
    {
        _tokens = tokens.Where(t => t.Content.Length > 0).ToArray();
        for (int t = 0; t < _tokens.Length; t++)
        {
            int node = 0;
            foreach (char c in _tokens[t].Content)
            {
                if (!_children[node].TryGetValue(c, out int child))
                {
                    child = _children.Count;
                    _children[node][c] = child;
                    _children.Add([]);
                    _tokenAt.Add(-1);
                }
                node = child;
            }
            // A later duplicate replaces an earlier one, as in the reference.
            _tokenAt[node] = t;
        }
        _firstChars = SearchValues.Create(_children[0].Keys.ToArray());
    }

    /// <summary>The text in order as plain stretches (Token null) and added tokens.</summary>
    public List<(string Text, AddedToken? Token)> Split(string text)
    {
        var sections = new List<(string, AddedToken?)>();
        int plainStart = 0, i = 0;
        while (i < text.Length)
        {
            int skip = text.AsSpan(i).IndexOfAny(_firstChars);
            if (skip < 0) break;
            i += skip;
            int node = 0, match = -1;
            for (int j = i; j < text.Length && _children[node].TryGetValue(text[j], out node); j++)
                if (_tokenAt[node] >= 0) match = _tokenAt[node];
            if (match < 0)
            {
                i++;
                continue;
            }
            if (i > plainStart) sections.Add((text[plainStart..i], null));
            sections.Add((_tokens[match].Content, _tokens[match]));
            i += _tokens[match].Content.Length;
            plainStart = i;
        }
        if (plainStart < text.Length) sections.Add((text[plainStart..], null));
        return sections;
    }
}
