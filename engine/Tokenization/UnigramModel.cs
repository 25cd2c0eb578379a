namespace DistillSpec.Tokenization;

/// <summary>
/// SentencePiece's unigram model: the split of a pre-token into vocabulary pieces with the highest total
/// log-probability (Viterbi over the lattice of all pieces that match at each code point). A code point that
/// starts no single-character piece is the unknown token, scored 10 below the lowest piece.
/// Ties go to the first candidate in the order the reference builds its lattice.
/// </summary>
internal sealed class UnigramModel : ITokenModel
{
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _pieces;
    private readonly double[] _scores;
    private readonly int _maxPieceChars;

    public UnigramModel(IReadOnlyList<(string Piece, double Score)> vocab, int unknownId)
    {
        var pieces = new Dictionary<string, int>(vocab.Count, StringComparer.Ordinal);
        _scores = new double[vocab.Count];
        double min = double.PositiveInfinity;
        for (int i = 0; i < vocab.Count; i++)
        {
            pieces[vocab[i].Piece] = i; // the reference keeps the last of duplicate pieces
            _scores[i] = vocab[i].Score;
            min = Math.Min(min, vocab[i].Score);
            _maxPieceChars = Math.Max(_maxPieceChars, vocab[i].Piece.Length);
        }
        _pieces = pieces.GetAlternateLookup<ReadOnlySpan<char>>();
        UnknownId = unknownId;
        _scores[unknownId] = min - 10.0;
    }

    public int UnknownId { get; }
    public bool FuseUnknown => true;

    public void Encode(string piece, List<int> ids)
    {
        if (piece.Length == 0) return;
        // Code point boundaries in UTF-16 units: starts[k] is where code point k begins.
        var starts = new List<int>(piece.Length + 1);
        for (int i = 0; i < piece.Length; i += char.IsHighSurrogate(piece[i]) && i + 1 < piece.Length && char.IsLowSurrogate(piece[i + 1]) ? 2 : 1)
            starts.Add(i);
        int count = starts.Count;
        starts.Add(piece.Length);

        // best[k]: best score of a path ending at code point k; via[k]: (start, id) of its last node.
        var best = new double[count + 1];
        var viaStart = new int[count + 1];
        var viaId = new int[count + 1];
        var reached = new bool[count + 1];
        reached[0] = true;
        // Nodes are visited by start position, and at each start in order of increasing length, unknown last.
        // A node ending at k improves best[k] only when strictly better, so the earliest inserted wins ties;
        // all nodes ending at k are inserted before any node starting at k is scored.
        for (int begin = 0; begin < count; begin++)
        {
            if (!reached[begin]) continue;
            bool single = false;
            for (int end = begin + 1; end <= count && starts[end] - starts[begin] <= _maxPieceChars; end++)
            {
                if (!_pieces.TryGetValue(piece.AsSpan(starts[begin], starts[end] - starts[begin]), out int id)) continue;
                Relax(begin, end, id);
                single |= end == begin + 1;
            }
            if (!single) Relax(begin, begin + 1, UnknownId);
        }

        var path = new List<int>();
        for (int k = count; k > 0; k = viaStart[k]) path.Add(viaId[k]);
        for (int i = path.Count - 1; i >= 0; i--) ids.Add(path[i]);

        void Relax(int begin, int end, int id)
        {
            double score = best[begin] + _scores[id];
            if (!reached[end] || score > best[end])
            {
                best[end] = score;
                viaStart[end] = begin;
                viaId[end] = id;
                reached[end] = true;
            }
        }
    }
}
