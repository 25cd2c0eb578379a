namespace DistillSpec;

/// <summary>
/// Cuts streamed text at the first stop string. Text that could still turn out to be the start
/// of a stop string is held back until it cannot, so no part of a stop string is ever emitted.
/// </summary>
internal sealed class StopStrings
{
    private readonly string[] _stops;
    private string _pending = "";

    public StopStrings(IReadOnlyList<string> stops)
    {
        foreach (var s in stops)
            if (string.IsNullOrEmpty(s)) throw new ArgumentException("stop strings must not be empty", nameof(stops));
        _stops = [.. stops];
    }

    public bool Stopped { get; private set; }

    /// <summary>The text that is now safe to emit, given the next piece; sets Stopped at a stop string.</summary>
    public string Push(string piece)
    {
        if (Stopped) return "";
        if (_stops.Length == 0) return piece;
        string text = _pending + piece;
        int cut = FirstStop(text);
        if (cut >= 0)
        {
            Stopped = true;
            _pending = "";
            return text[..cut];
        }
        int keep = HeldBack(text);
        _pending = text[^keep..];
        return text[..^keep];
    }

    /// <summary>What is held back, at the end of the stream.</summary>
    public string Flush()
    {
        string rest = Stopped ? "" : _pending;
        _pending = "";
        return rest;
    }

    private int FirstStop(string text)
    {
        int first = -1;
        foreach (var stop in _stops)
        {
            int at = text.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first)) first = at;
        }
        return first;
    }

    // Length of the longest suffix of text that is a proper prefix of some stop string.
    private int HeldBack(string text)
    {
        int longest = 0;
        foreach (var stop in _stops)
            for (int n = Math.Min(stop.Length - 1, text.Length); n > longest; n--)
                if (text.AsSpan(text.Length - n).SequenceEqual(stop.AsSpan(0, n)))
                {
                    longest = n;
                    break;
                }
        return longest;
    }
}
