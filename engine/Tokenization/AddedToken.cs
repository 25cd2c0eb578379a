namespace DistillSpec.Tokenization;

/// <summary>A token matched verbatim in text; special ones (control markers) decode to no text.</summary>
internal readonly record struct AddedToken(string Content, int Id, bool Special);
