namespace RLAgents.Agents.Buffers;

/// <summary>
/// Advantage and return estimators as pure functions over time-major arrays (index t·N + i for
/// step t of env i). Conventions, per step: <c>nextValues</c> holds V of the true next state
/// (the final observation when the episode was truncated there; any value when it terminated);
/// <c>terminated</c> stops bootstrapping; <c>ended</c> (terminated or truncated) stops the
/// recursion from reaching into the next episode. Truncation therefore bootstraps, termination does not.
/// </summary>
public static class Returns
{
    /// <summary>
    /// Generalised advantage estimation (Schulman et al. 2016):
    /// δ_t = r_t + γ(1 − term_t)·V(s_{t+1}) − V(s_t); A_t = δ_t + γλ(1 − ended_t)·A_{t+1};
    /// returns R_t = A_t + V(s_t) (the value targets).
    /// </summary>
    public static void Gae(int steps, int envs,
        ReadOnlySpan<float> rewards, ReadOnlySpan<float> values, ReadOnlySpan<float> nextValues,
        ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> ended,
        double gamma, double lambda, Span<float> advantages, Span<float> returns)
    {
        Check(steps, envs, rewards, values, nextValues, terminated, ended, advantages, returns);
        for (int i = 0; i < envs; i++)
        {
            double next = 0;
            for (int t = steps - 1; t >= 0; t--)
            {
                int k = t * envs + i;
                double bootstrap = terminated[k] ? 0 : gamma * nextValues[k];
                double delta = rewards[k] + bootstrap - values[k];
                next = delta + (ended[k] ? 0 : gamma * lambda * next);
                advantages[k] = (float)next;
                returns[k] = (float)(next + values[k]);
            }
        }
    }

    /// <summary>
    /// Discounted returns G_t = r_t + γ(1 − term_t)·(ended_t or t = T−1 ? V(s_{t+1}) : G_{t+1}):
    /// Monte Carlo within the rollout, bootstrapped from the value only where the episode was cut
    /// (truncation or the rollout's end). Equals <see cref="Gae"/>'s returns at λ = 1.
    /// </summary>
    public static void Discounted(int steps, int envs,
        ReadOnlySpan<float> rewards, ReadOnlySpan<float> nextValues,
        ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> ended, double gamma, Span<float> returns)
    {
        Check(steps, envs, rewards, rewards, nextValues, terminated, ended, returns, returns);
        for (int i = 0; i < envs; i++)
        {
            double g = 0;
            for (int t = steps - 1; t >= 0; t--)
            {
                int k = t * envs + i;
                double next = ended[k] || t == steps - 1 ? nextValues[k] : g;
                g = rewards[k] + (terminated[k] ? 0 : gamma * next);
                returns[k] = (float)g;
            }
        }
    }

    /// <summary>
    /// The n-step return of one transition: R = Σ_k γ^k r_k over <paramref name="rewards"/>
    /// (k = 0 … n−1) and the discount of its bootstrap, γ^n, or 0 when the last step terminated.
    /// The DQN target is then R + discount · Q_target(s_{t+n}, ·).
    /// </summary>
    public static (double Return, double Discount) NStep(ReadOnlySpan<float> rewards, double gamma, bool terminated)
    {
        double g = 0, discount = 1;
        foreach (float r in rewards) { g += discount * r; discount *= gamma; }
        return (g, terminated ? 0 : discount);
    }

    private static void Check(int steps, int envs, ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> c,
        ReadOnlySpan<bool> d, ReadOnlySpan<bool> e, Span<float> f, Span<float> g)
    {
        int n = steps * envs;
        if (a.Length < n || b.Length < n || c.Length < n || d.Length < n || e.Length < n || f.Length < n || g.Length < n)
            throw new ArgumentException($"Every array needs at least steps × envs = {n} entries.");
    }
}
