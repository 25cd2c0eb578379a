namespace DistillSpec.Tokenization;

/// <summary>
/// A token matched verbatim in text before normalization; special ones (control markers) decode to no text.
/// <paramref name="LeftStrip"/>/<paramref name="RightStrip"/> remove the whitespace on that side of a match.
/// </summary>
internal readonly record struct AddedToken(string Content, int Id, bool Special, bool LeftStrip = false, bool RightStrip = false);
