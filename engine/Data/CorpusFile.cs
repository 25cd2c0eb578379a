namespace DistillSpec.Data;

/// <summary>
/// A corpus split as written by tools/data/fetch-corpora.sh: UTF-8 text whose documents are joined by the
/// tokenizer's end-of-text token, so that encoding the file as a whole would already put EOS between them.
/// </summary>
public static class CorpusFile
{
    public const string DocumentSeparator = "<|endoftext|>";

    /// <summary>The documents in file order; empty documents (a separator at either end or twice in a row) are dropped.</summary>
    public static IReadOnlyList<string> ReadDocuments(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Corpus file '{path}' does not exist.", path);
        return Split(File.ReadAllText(path));
    }

    public static IReadOnlyList<string> Split(string text) =>
        text.Split(DocumentSeparator).Where(d => d.Length > 0).ToArray();

    public static string Join(IEnumerable<string> documents)
    {
        var list = documents.ToList();
        foreach (string d in list)
            if (d.Contains(DocumentSeparator, StringComparison.Ordinal))
                throw new ArgumentException($"A document contains the separator {DocumentSeparator}.", nameof(documents));
        return string.Join(DocumentSeparator, list);
    }
}
