using RLAgents.Environments;
using RLAgents.Policies.Selection;
using TorchSharp;
using static TorchSharp.torch;

namespace RLAgents.Policies.Distributions;

/// <summary>
/// A batch of actions as tensors for the update rules: the integers (int64 [B, Kd], zero-based per
/// element; a Discrete space may give [B]) and the floats (float32 [B, Kc]) of an
/// <see cref="ActionLayout"/>. Either is null when the layout has none.
/// </summary>
/// <param name="Discrete">Discrete elements, int64 [B, Kd] or [B].</param>
/// <param name="Continuous">Continuous elements, float32 [B, Kc].</param>
public readonly record struct ActionTensors(Tensor? Discrete, Tensor? Continuous)
{
    /// <summary>Actions of a Discrete space, int64 [B].</summary>
    public static implicit operator ActionTensors(Tensor discrete) => new(discrete, null);
}

/// <summary>
/// The action distribution of an action space, one abstraction for every space: a product of
/// one categorical per discrete element (Discrete: one; MultiDiscrete: K; Dict: those of its parts)
/// and one diagonal Gaussian over all continuous elements (float32 Box parts). Its parameters per
/// observation are one flat vector [P] = [logits of each categorical (Σ n_k) | Gaussian means (Kc) |
/// Gaussian log-stds (Kc)], so log-probabilities and entropies add over the parts.
/// <para>
/// With <see cref="Squashed"/> the Gaussian sample u is squashed to the Box bounds,
/// a = bias + scale·tanh(u) (SAC, Haarnoja et al. 2018, appendix C), and log-probabilities carry the
/// change-of-variables correction −Σ log(scale·(1 − tanh²u)); without, actions are the raw Gaussian
/// samples (PPO as CleanRL's <c>ppo_continuous_action.py</c>: the environment or a clip wrapper bounds them).
/// </para>
/// </summary>
public sealed class ActionDistribution
{
    private static readonly double HalfLog2Pi = 0.5 * Math.Log(2 * Math.PI);
    private readonly long[] _sizes;
    private readonly int _logits;
    private readonly float[] _scale, _bias;
    private double[] _logp = [];

    /// <summary>The distribution of actions laid out as <paramref name="layout"/>; <paramref name="squashed"/> tanh-squashes the Gaussian into the Box bounds.</summary>
    public ActionDistribution(ActionLayout layout, bool squashed = false)
    {
        Layout = layout;
        Squashed = squashed;
        _sizes = layout.DiscreteSizes.ToArray().Select(n => (long)n).ToArray();
        _logits = (int)_sizes.Sum();
        int kc = layout.ContinuousCount;
        _scale = new float[kc];
        _bias = new float[kc];
        for (int j = 0; j < kc; j++)
        {
            float low = layout.Low[j], high = layout.High[j];
            if (squashed && !(float.IsFinite(low) && float.IsFinite(high)))
                throw new ArgumentException($"A tanh-squashed Gaussian needs finite bounds; continuous element {j} of {layout.Space} is [{low}, {high}].");
            _scale[j] = (high - low) / 2;
            _bias[j] = (high + low) / 2;
        }
    }

    /// <summary>The action layout.</summary>
    public ActionLayout Layout { get; }

    /// <summary>True when the Gaussian is tanh-squashed into the Box bounds.</summary>
    public bool Squashed { get; }

    /// <summary>Discrete elements Kd.</summary>
    public int DiscreteCount => _sizes.Length;

    /// <summary>Continuous elements Kc.</summary>
    public int ContinuousCount => _scale.Length;

    /// <summary>Σ n_k, the logits of all categoricals.</summary>
    public int LogitsSize => _logits;

    /// <summary>Width P of the parameter vector: Σ n_k + 2·Kc.</summary>
    public int ParameterSize => _logits + 2 * ContinuousCount;

    /// <summary>
    /// Outputs of a network head: the logits and means, plus the log-stds when they depend on the
    /// state (<paramref name="stateDependentStd"/>); otherwise a policy appends a learned vector (<see cref="Parameters"/>).
    /// </summary>
    public int HeadSize(bool stateDependentStd) => _logits + (stateDependentStd ? 2 : 1) * ContinuousCount;

    /// <summary>Half the range of each Box element, [Kc] (the squash's scale).</summary>
    public ReadOnlySpan<float> ActionScale => _scale;

    /// <summary>Midpoint of each Box element, [Kc] (the squash's bias).</summary>
    public ReadOnlySpan<float> ActionBias => _bias;

    /// <summary>
    /// The parameters [B, P] from a head's output [B, Σn + Kc] and a state-independent log-std [Kc]
    /// (CleanRL's <c>actor_logstd</c>); a layout without continuous elements returns the head unchanged.
    /// </summary>
    public Tensor Parameters(Tensor head, Tensor? logStd)
    {
        if (ContinuousCount == 0) return head;
        if (logStd is null) throw new ArgumentNullException(nameof(logStd), "A Gaussian with a state-independent std needs its log-std vector.");
        return cat([head, logStd.unsqueeze(0).expand(head.shape[0], ContinuousCount)], 1);
    }

    /// <summary>Means μ [B, Kc] of the Gaussian (before any squash).</summary>
    public Tensor Mean(Tensor parameters) => parameters.narrow(1, _logits, ContinuousCount);

    /// <summary>Log-stds [B, Kc] of the Gaussian.</summary>
    public Tensor LogStd(Tensor parameters) => parameters.narrow(1, _logits + ContinuousCount, ContinuousCount);

    /// <summary>
    /// log π(a|s) [B] of <paramref name="actions"/> under <paramref name="parameters"/> [B, P]: Σ over categoricals
    /// of log softmax at the taken index, plus the Gaussian's Σ_j −½((a_j − μ_j)/σ_j)² − log σ_j − ½ log 2π
    /// (for a squashed Gaussian, of u = atanh((a − bias)/scale), with the tanh correction).
    /// </summary>
    public Tensor LogProb(Tensor parameters, ActionTensors actions)
    {
        Tensor? total = null;
        if (_sizes.Length > 0)
        {
            var d = actions.Discrete ?? throw new ArgumentException("The layout has discrete elements; the actions carry none.", nameof(actions));
            // One categorical over all the parameters (a Discrete space): no narrow/select calls on the hot path.
            if (_sizes.Length == 1 && ContinuousCount == 0 && d.dim() == 1) return Categorical.LogProb(parameters, d);
            if (d.dim() == 1) d = d.unsqueeze(1);
            long offset = 0;
            for (int k = 0; k < _sizes.Length; k++)
            {
                var lp = Categorical.LogProb(parameters.narrow(1, offset, _sizes[k]), d.select(1, k));
                total = total is null ? lp : total.add(lp);
                offset += _sizes[k];
            }
        }
        if (ContinuousCount > 0)
        {
            var a = actions.Continuous ?? throw new ArgumentException("The layout has continuous elements; the actions carry none.", nameof(actions));
            var mean = Mean(parameters);
            var logStd = LogStd(parameters);
            Tensor lp;
            if (Squashed)
            {
                using var scale = tensor(_scale);
                using var bias = tensor(_bias);
                // Clamped away from ±1 so that atanh stays finite for actions on the bounds.
                var y = a.sub(bias).div(scale).clamp(-1 + 1e-6, 1 - 1e-6);
                var u = y.atanh();
                lp = GaussianLogProb(u, mean, logStd).sub(TanhCorrection(u, scale));
            }
            else lp = GaussianLogProb(a, mean, logStd);
            total = total is null ? lp : total.add(lp);
        }
        return total ?? throw new InvalidOperationException("The action layout is empty.");
    }

    /// <summary>
    /// Entropy [B]: Σ over categoricals of −Σ p log p plus the Gaussian's Σ_j (½ + ½ log 2π + log σ_j).
    /// A squashed Gaussian has no closed form; this is then the entropy of u (SAC estimates −log π by sampling instead).
    /// </summary>
    public Tensor Entropy(Tensor parameters)
    {
        if (_sizes.Length == 1 && ContinuousCount == 0) return Categorical.Entropy(parameters);
        Tensor? total = null;
        long offset = 0;
        foreach (long n in _sizes)
        {
            var h = Categorical.Entropy(parameters.narrow(1, offset, n));
            total = total is null ? h : total.add(h);
            offset += n;
        }
        if (ContinuousCount > 0)
        {
            var h = LogStd(parameters).sum(-1).add(ContinuousCount * (0.5 + HalfLog2Pi));
            total = total is null ? h : total.add(h);
        }
        return total ?? throw new InvalidOperationException("The action layout is empty.");
    }

    /// <summary>
    /// KL(p ‖ q) [B] between the distributions of two parameter batches [B, P] (closed forms:
    /// Σ p (log p − log q) per categorical; Σ_j log(σq/σp) + (σp² + (μp − μq)²)/(2σq²) − ½ for the Gaussian,
    /// which the squash leaves unchanged).
    /// </summary>
    public Tensor KlDivergence(Tensor p, Tensor q)
    {
        Tensor? total = null;
        long offset = 0;
        foreach (long n in _sizes)
        {
            var lp = p.narrow(1, offset, n).log_softmax(-1);
            var lq = q.narrow(1, offset, n).log_softmax(-1);
            var kl = lp.exp().mul(lp.sub(lq)).sum(-1);
            total = total is null ? kl : total.add(kl);
            offset += n;
        }
        if (ContinuousCount > 0)
        {
            var mp = Mean(p); var mq = Mean(q);
            var sp = LogStd(p); var sq = LogStd(q);
            var kl = sq.sub(sp).add(sp.mul(2).exp().add(mp.sub(mq).pow(2)).div(sq.mul(2).exp().mul(2))).sub(0.5).sum(-1);
            total = total is null ? kl : total.add(kl);
        }
        return total ?? throw new InvalidOperationException("The action layout is empty.");
    }

    /// <summary>
    /// A reparameterised sample of the (squashed) Gaussian and its log-probability: u = μ + σ·ε with
    /// <paramref name="noise"/> ε ~ N(0, I) [B, Kc] drawn by the caller (from the run's generator, so
    /// updates are reproducible); returns a [B, Kc] in env units and log π(a|s) [B], both differentiable
    /// in the parameters. Continuous layouts only.
    /// </summary>
    public (Tensor Actions, Tensor LogProbs) RSample(Tensor parameters, Tensor noise)
    {
        if (_sizes.Length > 0 || ContinuousCount == 0) throw new InvalidOperationException("Reparameterised sampling needs a purely continuous action space.");
        var mean = Mean(parameters);
        var logStd = LogStd(parameters);
        var u = mean.add(logStd.exp().mul(noise));
        // log N(u; μ, σ) with (u − μ)/σ = ε exactly, so no division by σ.
        var gaussian = noise.pow(2).mul(-0.5).sub(logStd).sub(HalfLog2Pi).sum(-1);
        if (!Squashed) return (u, gaussian);
        using var scale = tensor(_scale);
        using var bias = tensor(_bias);
        return (u.tanh().mul(scale).add(bias), gaussian.sub(TanhCorrection(u, scale)));
    }

    /// <summary>The deterministic action [B, Kc]: μ, or bias + scale·tanh(μ) when squashed (TD3's actor, evaluation).</summary>
    public Tensor Mode(Tensor parameters)
    {
        var mean = Mean(parameters);
        if (!Squashed) return mean;
        using var scale = tensor(_scale);
        using var bias = tensor(_bias);
        return mean.tanh().mul(scale).add(bias);
    }

    private static Tensor GaussianLogProb(Tensor x, Tensor mean, Tensor logStd)
    {
        var z = x.sub(mean).div(logStd.exp());
        return z.pow(2).mul(-0.5).sub(logStd).sub(HalfLog2Pi).sum(-1);
    }

    // Σ_j log(scale_j · (1 − tanh²u_j)), with log(1 − tanh²u) = 2(log 2 − u − softplus(−2u)) (stable for large |u|).
    private static Tensor TanhCorrection(Tensor u, Tensor scale)
    {
        var log1mTanh2 = u.neg().sub(nn.functional.softplus(u.mul(-2))).add(Math.Log(2)).mul(2);
        return log1mTanh2.add(scale.log()).sum(-1);
    }

    /// <summary>Floats per observation that <see cref="Select"/> writes as the acting distribution: the probabilities of each categorical, then μ and σ of the Gaussian.</summary>
    public int DescriptionSize => ParameterSize;

    /// <summary>
    /// Chooses one action from one row of parameters (the acting hot path, plain arrays and the run's
    /// <see cref="Rng"/>): writes its integers (action-space values, i.e. with each element's start) and
    /// floats, and when <paramref name="description"/> is not empty the acting distribution
    /// (<see cref="DescriptionSize"/> floats); returns log π(a|s) under the selecting distribution.
    /// Categoricals follow <paramref name="selection"/> (sample, greedy, ε-greedy, Boltzmann); the Gaussian
    /// samples, takes its mode when greedy, or adds <see cref="ActionSelection.NoiseScale"/>·scale noise to the mode
    /// (clipped to the bounds, TD3's exploration; the draws come from <see cref="ActionSelection.Noise"/> for env slot
    /// <paramref name="row"/>, Gaussian without one); <see cref="SelectionStrategy.Uniform"/> draws from the space.
    /// </summary>
    public double Select(ReadOnlySpan<float> parameters, ActionSelection selection, Rng rng, Span<int> discrete, Span<float> continuous, Span<float> description, int row = 0)
    {
        if (selection.Strategy == SelectionStrategy.Uniform)
        {
            Layout.Sample(rng, discrete, continuous);
            if (!description.IsEmpty) description.Clear();
            return UniformLogProb();
        }
        double total = 0;
        int offset = 0;
        var starts = Layout.DiscreteStarts;
        for (int k = 0; k < _sizes.Length; k++)
        {
            int n = (int)_sizes[k];
            if (_logp.Length < n) _logp = new double[n];
            var probs = description.IsEmpty ? default : description.Slice(offset, n);
            int a = SelectCategorical(parameters.Slice(offset, n), selection, rng, _logp.AsSpan(0, n), probs, out double lp);
            discrete[k] = a + starts[k];
            total += lp;
            offset += n;
        }
        int kc = ContinuousCount;
        for (int j = 0; j < kc; j++)
        {
            double mean = parameters[_logits + j], logStd = parameters[_logits + kc + j], std = Math.Exp(logStd);
            double u, lp;
            switch (selection.Strategy)
            {
                case SelectionStrategy.Greedy when selection.NoiseScale > 0:
                    // TD3: the deterministic action plus noise·scale·draw (N(0, 1) or the slot's process), clipped to the bounds; its density is not tracked.
                    double mode = Squashed ? _bias[j] + _scale[j] * Math.Tanh(mean) : mean;
                    double draw = selection.Noise is { } process ? process.Next(row, j, rng) : rng.NextNormal();
                    double noisy = mode + selection.NoiseScale * (Squashed ? _scale[j] : 1) * draw;
                    continuous[j] = (float)Math.Clamp(noisy, Layout.Low[j], Layout.High[j]);
                    total = double.NaN;
                    continue;
                case SelectionStrategy.Greedy:
                    u = mean;
                    lp = -logStd - HalfLog2Pi;
                    break;
                case SelectionStrategy.Sample:
                    double eps = rng.NextNormal();
                    u = mean + std * eps;
                    lp = -0.5 * eps * eps - logStd - HalfLog2Pi;
                    break;
                default:
                    throw new ArgumentException($"{selection.Strategy} selection applies to discrete actions; continuous actions are sampled, greedy or uniform.");
            }
            if (Squashed)
            {
                double y = Math.Tanh(u);
                continuous[j] = (float)(_bias[j] + _scale[j] * y);
                lp -= Math.Log(_scale[j]) + 2 * (Math.Log(2) - u - Softplus(-2 * u));
            }
            else continuous[j] = (float)u;
            total += lp;
            if (!description.IsEmpty)
            {
                description[_logits + j] = (float)mean;
                description[_logits + kc + j] = (float)std;
            }
        }
        return total;
    }

    private static double Softplus(double x) => x > 30 ? x : Math.Log(1 + Math.Exp(x));

    // log density of a uniform draw: −log n per categorical, −log(high − low) per bounded float.
    private double UniformLogProb()
    {
        double lp = 0;
        foreach (long n in _sizes) lp -= Math.Log(n);
        for (int j = 0; j < ContinuousCount; j++) lp -= Math.Log(2.0 * _scale[j]);
        return lp;
    }

    private static int SelectCategorical(ReadOnlySpan<float> row, ActionSelection selection, Rng rng, Span<double> logp, Span<float> probabilities, out double logProb)
    {
        int k = row.Length, a;
        switch (selection.Strategy)
        {
            case SelectionStrategy.Greedy:
                a = CategoricalSampler.ArgMax(row);
                CategoricalSampler.LogSoftmax(row, 1, logp);
                logProb = logp[a];
                Exp(logp, probabilities);
                return a;
            case SelectionStrategy.EpsilonGreedy:
                int greedy = CategoricalSampler.ArgMax(row);
                a = rng.NextDouble() < selection.Epsilon ? rng.NextInt(k) : greedy;
                logProb = Math.Log(selection.Epsilon / k + (a == greedy ? 1 - selection.Epsilon : 0));
                if (!probabilities.IsEmpty)
                {
                    probabilities.Fill((float)(selection.Epsilon / k));
                    probabilities[greedy] = (float)(selection.Epsilon / k + 1 - selection.Epsilon);
                }
                return a;
            default:
                double temperature = selection.Strategy == SelectionStrategy.Boltzmann ? selection.Temperature : 1;
                if (!(temperature > 0)) throw new ArgumentException($"Boltzmann temperature must be > 0, got {temperature}.");
                CategoricalSampler.LogSoftmax(row, temperature, logp);
                a = CategoricalSampler.Sample(logp, rng);
                logProb = logp[a];
                Exp(logp, probabilities);
                return a;
        }
    }

    private static void Exp(ReadOnlySpan<double> logp, Span<float> destination)
    {
        for (int j = 0; j < destination.Length; j++) destination[j] = (float)Math.Exp(logp[j]);
    }
}
