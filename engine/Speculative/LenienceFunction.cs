namespace DistillSpec.Speculative;

/// <summary>
/// How lossy speculative decoding loosens the acceptance test with lenience eps in (0, 1]: a draft
/// y is accepted when u &lt; min(1, f(p(y), eps) / q(y)), the DistillSpec paper's lenience functions.
/// Each gives f(p, 1) = p (lossless) and f(p, eps) &gt;= p, so a smaller eps accepts more drafts.
/// </summary>
public enum LenienceFunction
{
    /// <summary>f_lin(p, eps) = p / eps: the test is u &lt; p / (eps q).</summary>
    Linear,

    /// <summary>f_sq(p, eps) = p / eps^2.</summary>
    Squared,

    /// <summary>f_exp(p, eps) = p^eps: lenient most where p is small.</summary>
    Exponential,
}
