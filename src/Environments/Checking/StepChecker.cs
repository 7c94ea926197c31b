namespace RLAgents.Environments.Checking;

/// <summary>
/// The cheap checks a training run makes on every step of its environments (<c>training.checkEnvSteps</c>,
/// on by default): every reward is finite and every observation, including the final observation of an
/// episode that ended, lies in the observation space (float32 bounds reject NaN and infinities). A
/// violation is an <see cref="EnvFaultException"/> naming the sub-environment and the value, so a rare NaN
/// stops the run where it appeared instead of poisoning the weights. Allocation-free: a text is checked
/// only when its string instance changed since the slot's previous check.
/// </summary>
public sealed class StepChecker
{
    private readonly ObservationSpace _space;
    private readonly int[] _textModalities;
    private readonly string?[] _checkedText; // [slot × text modality]: the last instance that passed

    /// <summary>A checker for <paramref name="env"/>'s spaces.</summary>
    public StepChecker(IVectorEnv env)
    {
        _space = env.SingleObservationSpace;
        _textModalities = Enumerable.Range(0, _space.Count).Where(m => _space[m].Storage == ModalityStorage.Text).ToArray();
        _checkedText = new string?[env.NumEnvs * Math.Max(1, _textModalities.Length)];
    }

    /// <summary>Checks the observations after a reset; throws <see cref="EnvFaultException"/> on the first violation.</summary>
    public void CheckReset(IVectorEnv env)
    {
        for (int i = 0; i < env.NumEnvs; i++) Observation(env, env.Observations, i, "Reset returned");
    }

    /// <summary>Checks the rewards, observations and final observations of the latest step; throws <see cref="EnvFaultException"/> on the first violation.</summary>
    public void CheckStep(IVectorEnv env)
    {
        var rewards = env.Rewards;
        var terminated = env.Terminated;
        var truncated = env.Truncated;
        for (int i = 0; i < env.NumEnvs; i++)
        {
            if (!double.IsFinite(rewards[i])) throw new EnvFaultException(env.Id.ToString(), i, $"Step returned reward {rewards[i].ToString(System.Globalization.CultureInfo.InvariantCulture)}");
            bool ended = terminated[i] || truncated[i];
            if (ended && env.AutoresetMode == AutoresetMode.SameStep) Observation(env, env.FinalObservations, i, "Step returned the final observation with");
            Observation(env, env.Observations, i, ended && env.AutoresetMode == AutoresetMode.SameStep ? "Reset returned" : "Step returned");
        }
    }

    private void Observation(IVectorEnv env, ObservationBatch batch, int slot, string what)
    {
        if (!FastContains(batch, slot) && _space.Violation(batch, slot) is { } problem)
            throw new EnvFaultException(env.Id.ToString(), slot, $"{what} {problem}");
    }

    // The common case (everything in bounds) without building a message; texts only when their instance changed.
    private bool FastContains(ObservationBatch batch, int slot)
    {
        for (int m = 0; m < _space.Count; m++)
        {
            var mod = _space[m];
            int size = mod.Size;
            switch (mod.Storage)
            {
                case ModalityStorage.Float32:
                    if (!((BoxSpace)mod.Space).Contains(batch.Floats(m).AsSpan(slot * size, size))) return false;
                    break;
                case ModalityStorage.UInt8:
                    if (!((BoxSpace)mod.Space).Contains(batch.Bytes(m).AsSpan(slot * size, size))) return false;
                    break;
                case ModalityStorage.Int32:
                    if (!((DiscreteSpace)mod.Space).Contains(batch.Ints(m)[slot])) return false;
                    break;
            }
        }
        for (int k = 0; k < _textModalities.Length; k++)
        {
            int m = _textModalities[k];
            string text = batch.Texts(m)[slot];
            ref string? last = ref _checkedText[slot * _textModalities.Length + k];
            if (ReferenceEquals(text, last)) continue;
            if (!((TextSpace)_space[m].Space).Contains(text)) return false;
            last = text;
        }
        return true;
    }
}
