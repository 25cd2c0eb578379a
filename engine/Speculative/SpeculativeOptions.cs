namespace DistillSpec.Speculative;

/// <summary>How many tokens the draft proposes per round and how leniently the target accepts them.</summary>
public sealed record SpeculativeOptions
{
    /// <summary>gamma: drafts per round, or its ceiling when Adaptive or DraftPMin cut rounds short.</summary>
    public int DraftMax { get; init; } = 4;

    /// <summary>Stop drafting once the draft's top probability falls below this; 0 = off.</summary>
    public float DraftPMin { get; init; }

    /// <summary>Drafts every round makes before DraftPMin may cut it short (llama-server's --draft-min); 0 = none.</summary>
    public int DraftMin { get; init; }

    /// <summary>Grow gamma by 1 after a fully accepted round, shrink it by 1 when the first draft is rejected.</summary>
    public bool Adaptive { get; init; }

    /// <summary>eps in (0, 1]: accept when u &lt; f(p, eps)/q, p/(eps q) under the default LenienceFunction; 1 = lossless.</summary>
    public float Lenience { get; init; } = 1f;

    /// <summary>f in the lenient test; Linear (p/eps) unless set.</summary>
    public LenienceFunction LenienceFunction { get; init; } = LenienceFunction.Linear;

    /// <summary>
    /// Past a few tokens a longer draft only wastes draft passes (acceptance decays geometrically);
    /// unbounded, --draft-max 1000 ran for minutes at 0.04x. Also the most a verify block holds.
    /// </summary>
    public const int MaxDraft = 64;

    public SpeculativeOptions Validate()
    {
        if (DraftMax < 1 || DraftMax > MaxDraft)
            throw new ArgumentOutOfRangeException(nameof(DraftMax), DraftMax, $"the draft must propose 1 to {MaxDraft} tokens per round");
        if (DraftMin < 0 || DraftMin > DraftMax) throw new ArgumentOutOfRangeException(nameof(DraftMin), DraftMin, $"DraftMin must be in [0, DraftMax = {DraftMax}]");
        if (!(DraftPMin >= 0f && DraftPMin < 1f)) throw new ArgumentOutOfRangeException(nameof(DraftPMin), DraftPMin, "DraftPMin must be in [0, 1) (0 = off)");
        if (!(Lenience > 0f && Lenience <= 1f)) throw new ArgumentOutOfRangeException(nameof(Lenience), Lenience, "Lenience must be in (0, 1] (1 = lossless)");
        if (!Enum.IsDefined(LenienceFunction)) throw new ArgumentOutOfRangeException(nameof(LenienceFunction), LenienceFunction, "LenienceFunction must be Linear, Squared or Exponential");
        return this;
    }
}
