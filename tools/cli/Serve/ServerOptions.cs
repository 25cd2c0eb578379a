using DistillSpec.Speculative;

namespace DistillSpec.Cli.Serve;

/// <summary>How the server listens, how much it queues, and how it drafts.</summary>
internal sealed record ServerOptions
{
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (tests, the load bench).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>Requests that may wait for a slot; one more is answered 429.</summary>
    public int Queue { get; init; } = 16;

    /// <summary>Positions a request may use, prompt plus completion; 0 = the model's context length.</summary>
    public int ContextSize { get; init; }

    /// <summary>Drafting of every request when a draft model is loaded.</summary>
    public SpeculativeOptions Speculation { get; init; } = new();
}
