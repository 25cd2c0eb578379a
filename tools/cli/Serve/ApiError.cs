namespace DistillSpec.Cli.Serve;

/// <summary>
/// A request the server answers with an OpenAI-style error body instead of a completion:
/// <c>{"error": {"message", "type", "param", "code"}}</c> with the HTTP status.
/// </summary>
internal sealed class ApiError(int status, string message, string type = ApiError.InvalidRequest, string? param = null, string? code = null)
    : Exception(message)
{
    public const string InvalidRequest = "invalid_request_error";

    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    public static ApiError BadRequest(string message, string? param = null, string? code = null) => new(400, message, InvalidRequest, param, code);

    public static ApiError WrongType(string param, string expected) =>
        BadRequest($"'{param}' must be {expected}", param, "invalid_type");

    public static ApiError ContextLength(string message, string param) => BadRequest(message, param, "context_length_exceeded");
}
