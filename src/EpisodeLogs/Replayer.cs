using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.Wrappers;

namespace RLAgents.EpisodeLogs;

/// <summary>Options of a replay (<c>rlagents replay</c>).</summary>
public sealed class ReplayOptions
{
    /// <summary>Replay only this episode index, or null for all.</summary>
    public long? Episode { get; set; }

    /// <summary>Replay although the environment's version, assembly version or wrapper stack differs from the log's.</summary>
    public bool Force { get; set; }

    /// <summary>Path of the plug-in assembly to use instead of the one recorded in the log (it moved).</summary>
    public string? PluginAssembly { get; set; }
}

/// <summary>
/// Re-simulates logged episodes from their recorded start (seed or start state) and actions and
/// checks that every observation (values or hashes), reward and flag matches the log exactly. The
/// environment is rebuilt from the log's header through an <see cref="EnvRegistry"/> (built-in
/// ids, or the plug-in assembly recorded in the log).
/// </summary>
public sealed class Replayer
{
    private readonly EnvRegistry _registry;

    /// <summary>Creates a replayer over <paramref name="registry"/> (null = the default registry with every built-in env).</summary>
    public Replayer(EnvRegistry? registry = null) => _registry = registry ?? EnvRegistry.CreateDefault();

    /// <summary>Reads <paramref name="path"/> and replays its episodes (all, or <see cref="ReplayOptions.Episode"/>).</summary>
    /// <exception cref="EpisodeLogEnvironmentException">The environment cannot be rebuilt (message says why and, for versions, that --force overrides).</exception>
    /// <exception cref="RLAgents.Core.InputException">The requested episode is not in the log.</exception>
    public ReplayReport Verify(string path, ReplayOptions? options = null)
    {
        options ??= new ReplayOptions();
        var log = EpisodeLogReader.ReadAll(path);
        var episodes = options.Episode is long n ? [log.Episode(n)] : log.Episodes;
        using var env = CreateEnvironment(log.Header, options);
        var results = episodes.Select(e => Verify(env, log.Header, e)).ToList();
        return new ReplayReport(path, log.Header, results, log.Damages);
    }

    /// <summary>
    /// Rebuilds the environment of a log: resolves the env id (loading the recorded plug-in when
    /// needed), checks the version and implementing assembly, binds the recorded options strictly,
    /// and rebuilds the recorded wrapper stack.
    /// </summary>
    public IEnv CreateEnvironment(EpisodeLogHeader header, ReplayOptions? options = null)
    {
        options ??= new ReplayOptions();
        var registration = Resolve(header, options);
        object envOptions;
        try
        {
            using var doc = JsonDocument.Parse(header.EnvOptionsJson);
            envOptions = OptionsBinder.Bind(doc.RootElement, registration.OptionsType, "env.options");
        }
        catch (Exception e) when (e is ConfigurationException or JsonException)
        {
            throw new EpisodeLogEnvironmentException($"The log's options for {header.EnvId} no longer bind to {registration.OptionsType.Name}: {e.Message}", e);
        }
        IEnv env = registration.CreateUnwrapped(envOptions);
        try
        {
            CheckAssembly(header, env, options.Force);
            env = Wrap(env, header.Wrappers, options.Force);
            var layout = env.ActionSpace.ActionLayout;
            if (header.ActionFloats == 0 && header.ActionSpace is null)
            {
                int actionCount = env.ActionSpace.AsDiscrete("Episode replay").N;
                if (actionCount != header.ActionCount && !options.Force)
                    throw new EpisodeLogEnvironmentException($"{header.EnvId} now has {actionCount} actions; the log was recorded with {header.ActionCount}. Use --force to replay anyway.");
            }
            else if (layout.ContinuousCount != header.ActionFloats || layout.DiscreteCount != (header.HasDiscreteAction ? 1 : 0))
                // Not even --force replays floats into a space of another size.
                throw new EpisodeLogEnvironmentException($"{header.EnvId}'s action space is now {env.ActionSpace}; the log was recorded with {header.ActionSpace} ({header.ActionFloats} floats per action).");
            else if (env.ActionSpace.ToString() != header.ActionSpace && !options.Force)
                throw new EpisodeLogEnvironmentException($"{header.EnvId}'s action space is now {env.ActionSpace}; the log was recorded with {header.ActionSpace}. Use --force to replay anyway.");
            if (env.ObservationSpace.Count != header.Modalities.Count
                || !header.Modalities.Zip(env.ObservationSpace.Modalities).All(p => p.First.Matches(p.Second)))
                throw new EpisodeLogEnvironmentException($"{header.EnvId}'s observation space {env.ObservationSpace} does not match the log's modalities ({string.Join(", ", header.Modalities.Select(m => $"{m.Name}:{m.Storage}[{m.Size}]"))}).");
            return env;
        }
        catch
        {
            env.Dispose();
            throw;
        }
    }

    /// <summary>Replays one episode on <paramref name="env"/> (built by <see cref="CreateEnvironment"/>) and returns its first divergence, if any.</summary>
    public EpisodeReplayResult Verify(IEnv env, EpisodeLogHeader header, RecordedEpisode episode) => Run(env, header, episode, capture: null);

    /// <summary>
    /// Replays an episode and returns it with full observation values, regenerated by the
    /// environment (for logs recorded with hashes only: renderers and dataset export use this).
    /// Throws <see cref="InvalidOperationException"/> when the replay diverges.
    /// </summary>
    public RecordedEpisode Regenerate(IEnv env, EpisodeLogHeader header, RecordedEpisode episode)
    {
        var rawHeader = header with { Modalities = header.Modalities.Select(m => m with { Encoding = ObservationEncoding.Raw }).ToArray() };
        var builder = new EpisodeBuilder(rawHeader);
        var result = Run(env, header, episode, builder);
        if (result.Divergence is { } d) throw new InvalidOperationException($"Cannot regenerate observations: the replay diverges at {d}.");
        var full = builder.Finish();
        full.Index = episode.Index;
        full.Seed = episode.Seed;
        full.StartState = episode.StartState;
        full.CheckpointId = episode.CheckpointId;
        full.Phase = episode.Phase;
        full.Evaluation = episode.Evaluation;
        full.Success = episode.Success;
        full.Return = episode.Return;
        full.ActionProbabilities = episode.ActionProbabilities;
        full.Values = episode.Values;
        return full;
    }

    private static EpisodeReplayResult Run(IEnv env, EpisodeLogHeader header, RecordedEpisode e, EpisodeBuilder? capture)
    {
        Observation obs;
        try
        {
            if (e.Seed is long seed) obs = env.Reset(seed).Observation;
            else if (e.StartState is string state) obs = StartStates.ResetTo(env, state);
            else return new(e.Index, 0, new Divergence(e.Index, 0, DivergenceKind.Unreplayable, null, "", "the episode has neither a seed nor a start state"));
        }
        catch (Exception ex) when (ex is NotSupportedException or FormatException or ArgumentException or InvalidOperationException)
        {
            return new(e.Index, 0, new Divergence(e.Index, 0, DivergenceKind.Unreplayable, null, "", $"cannot start the episode: {ex.Message}"));
        }
        capture?.Begin(e.Index, e.Seed, e.StartState, obs);
        if (CompareObservation(e, header, obs, 0) is { } d0) return new(e.Index, 0, d0);
        // Discrete logs step with the integer (the fast path every env has); float actions go in as recorded, bit for bit.
        var layout = env.ActionSpace.ActionLayout;
        bool floats = header.ActionFloats > 0;
        for (int t = 0; t < e.Length; t++)
        {
            StepResult r;
            try
            {
                r = floats ? env.Step(e.ActionAt(t, layout)) : env.Step(e.Actions[t]);
            }
            catch (Exception ex) when (ex is InvalidActionException or InvalidOperationException or ArgumentException)
            {
                return new(e.Index, t, new Divergence(e.Index, t, DivergenceKind.EnvironmentError, null, $"action {e.DescribeAction(t)}", ex.Message));
            }
            if (floats) capture?.Add(e.ActionAt(t, layout), r);
            else capture?.Add(e.Actions[t], r);
            if (BitConverter.DoubleToInt64Bits(r.Reward) != BitConverter.DoubleToInt64Bits(e.Rewards[t]))
                return new(e.Index, t, new Divergence(e.Index, t, DivergenceKind.Reward, null, R(e.Rewards[t]), R(r.Reward)));
            if (r.Terminated != e.Terminated[t])
                return new(e.Index, t, new Divergence(e.Index, t, DivergenceKind.Terminated, null, B(e.Terminated[t]), B(r.Terminated)));
            if (r.Truncated != e.Truncated[t])
                return new(e.Index, t, new Divergence(e.Index, t, DivergenceKind.Truncated, null, B(e.Truncated[t]), B(r.Truncated)));
            if (CompareObservation(e, header, r.Observation, t + 1) is { } d) return new(e.Index, t, d);
        }
        return new(e.Index, e.Length, null);
    }

    internal static Divergence? CompareObservation(RecordedEpisode e, EpisodeLogHeader header, Observation live, int t)
    {
        for (int m = 0; m < header.Modalities.Count; m++)
        {
            var rec = e.Observations[m];
            var layout = rec.Layout;
            if (!rec.HasValues)
            {
                ulong want = rec.Hashes![t], got = ObservationHash.Hash(live, m);
                if (want != got) return new Divergence(e.Index, t, DivergenceKind.Observation, layout.Name, $"hash 0x{want:x16}", $"hash 0x{got:x16}");
                continue;
            }
            int size = layout.Size;
            string? diff = layout.Storage switch
            {
                ModalityStorage.Float32 => FirstDifference(
                    MemoryMarshal.Cast<float, int>(rec.Floats.AsSpan(t * size, size)), MemoryMarshal.Cast<float, int>((ReadOnlySpan<float>)live.Floats(m)),
                    i => (rec.Floats![t * size + i].ToString("R", CultureInfo.InvariantCulture), live.Floats(m)[i].ToString("R", CultureInfo.InvariantCulture))),
                ModalityStorage.UInt8 => FirstDifference(rec.Bytes.AsSpan(t * size, size), live.Bytes(m),
                    i => (rec.Bytes![t * size + i].ToString(CultureInfo.InvariantCulture), live.Bytes(m)[i].ToString(CultureInfo.InvariantCulture))),
                ModalityStorage.Int32 => rec.Ints![t] == live.GetInt(m) ? null : $"{rec.Ints[t]}|{live.GetInt(m)}",
                _ => rec.Texts![t] == live.GetText(m) ? null : $"\"{rec.Texts[t]}\"|\"{live.GetText(m)}\"",
            };
            if (diff is not null)
            {
                var parts = diff.Split('|', 2);
                return new Divergence(e.Index, t, DivergenceKind.Observation, layout.Name, parts[0], parts[1]);
            }
        }
        return null;
    }

    private static string? FirstDifference<T>(ReadOnlySpan<T> recorded, ReadOnlySpan<T> live, Func<int, (string, string)> show) where T : IEquatable<T>
    {
        int i = recorded.CommonPrefixLength(live);
        if (i == recorded.Length && i == live.Length) return null;
        var (a, b) = show(i);
        return $"element {i} = {a}|element {i} = {b}";
    }

    private static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string B(bool v) => v ? "true" : "false";

    private EnvRegistration Resolve(EpisodeLogHeader header, ReplayOptions options)
    {
        if (header.Plugin is string spec)
        {
            int colon = spec.LastIndexOf(':');
            string assembly = options.PluginAssembly ?? spec[..colon];
            string type = spec[(colon + 1)..];
            if (!File.Exists(assembly))
                throw new EpisodeLogEnvironmentException($"The log's environment {header.EnvId} comes from plug-in assembly '{assembly}' (type {type}), which was not found; pass the assembly's path to replay it.");
            try
            {
                var loaded = _registry.LoadPlugin($"{assembly}:{type}");
                if (loaded.Id.ToString() == header.EnvId || options.Force) return loaded;
                throw new EpisodeLogEnvironmentException($"The log was recorded with {header.EnvId}, but plug-in {type} now declares {loaded.Id}. Use --force to replay on {loaded.Id}.");
            }
            catch (EnvPluginException e)
            {
                throw new EpisodeLogEnvironmentException($"Cannot load the log's plug-in: {e.Message}", e);
            }
        }
        if (_registry.Contains(header.EnvId)) return _registry.Get(header.EnvId);
        var id = EnvId.Parse(header.EnvId);
        var others = _registry.All.Where(r => r.Id.Name == id.Name).OrderByDescending(r => r.Id.Version).ToList();
        if (others.Count > 0)
        {
            if (options.Force) return others[0];
            throw new EpisodeLogEnvironmentException($"The log was recorded with {header.EnvId}; this build has {string.Join(", ", others.Select(o => o.Id))}. Use --force to replay on {others[0].Id}.");
        }
        string from = header.EnvAssembly is null ? "" : $" (implemented in assembly {header.EnvAssembly}{(header.EnvType is null ? "" : $", type {header.EnvType}")})";
        throw new EpisodeLogEnvironmentException($"The log's environment {header.EnvId}{from} is not registered and the log names no plug-in assembly; register it or load its plug-in.");
    }

    private static void CheckAssembly(EpisodeLogHeader header, IEnv env, bool force)
    {
        if (header.EnvAssembly is null || force) return;
        var name = env.Unwrapped().GetType().Assembly.GetName();
        string now = $"{name.Name}, {name.Version}";
        if (now != header.EnvAssembly)
            throw new EpisodeLogEnvironmentException($"The log was recorded with {header.EnvId} from {header.EnvAssembly}; this build has {now}. Use --force to replay anyway.");
    }

    /// <summary>Rebuilds the recorded wrapper stack (outermost first in the description) around <paramref name="env"/>.</summary>
    private static IEnv Wrap(IEnv env, IReadOnlyList<string> wrappers, bool force)
    {
        for (int i = wrappers.Count - 1; i >= 0; i--)
        {
            string w = wrappers[i];
            if (w == nameof(RecordEpisodeStatistics)) env = new RecordEpisodeStatistics(env);
            else if (EnvStack.TimeLimitOf([w]) is int limit) env = new TimeLimit(env, limit);
            else if (!force)
                throw new EpisodeLogEnvironmentException($"The log's wrapper '{w}' cannot be rebuilt for replay (only TimeLimit and RecordEpisodeStatistics are). Use --force to replay without it.");
        }
        return env;
    }
}
