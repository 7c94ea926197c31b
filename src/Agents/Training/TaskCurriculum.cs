using RLAgents.Agents.Collection;
using RLAgents.Core.Metrics;
using RLAgents.Environments;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.Vector;

namespace RLAgents.Agents.Training;

/// <summary>Where a curriculum stands, saved with the runner's state so a resumed run continues it.</summary>
/// <param name="Active">Tasks training draws from (the first ones of the mixture).</param>
/// <param name="Recent">Per task, its latest training successes, oldest first.</param>
public sealed record CurriculumState(int Active, Dictionary<string, bool[]> Recent);

/// <summary>
/// A curriculum over the tasks of a task mixture (<see cref="ITaskMixture"/>): it reads finished training
/// episodes, adds the next task once every active task's recent success reaches the threshold, and sets
/// the training envs' <see cref="ITaskMixture.ActiveTasks"/>. The runner drives it; nothing here names an env family.
/// </summary>
public sealed class TaskCurriculum
{
    private readonly CurriculumOptions _options;
    private readonly IReadOnlyList<string> _tasks;
    private readonly Dictionary<string, Queue<bool>> _recent;

    private TaskCurriculum(CurriculumOptions options, IReadOnlyList<string> tasks, CurriculumState? state)
    {
        _options = options;
        _tasks = tasks;
        Active = state?.Active ?? Math.Min(options.StartTasks, tasks.Count);
        _recent = tasks.ToDictionary(t => t, t => new Queue<bool>(state?.Recent.GetValueOrDefault(t) ?? []), StringComparer.Ordinal);
    }

    /// <summary>
    /// The curriculum of <paramref name="options"/> over the tasks of <paramref name="env"/>'s sub-environments,
    /// continuing <paramref name="state"/> when given.
    /// </summary>
    /// <exception cref="ConfigurationException">The env is not a task mixture, or starts on more tasks than it has.</exception>
    public static TaskCurriculum For(CurriculumOptions options, IVectorEnv env, CurriculumState? state)
    {
        var mixtures = VectorEnvs.FindAll<ITaskMixture>(env);
        if (mixtures.Count == 0)
            throw new ConfigurationException("env.curriculum", $"{env.Id} is not a mixture of tasks (no {nameof(ITaskMixture)} in sync or threaded sub-environments); a curriculum needs one, e.g. BabyAI-Mixture-v0");
        var tasks = mixtures[0].Tasks;
        if (options.StartTasks > tasks.Count)
            throw new ConfigurationException("env.curriculum.startTasks", $"{options.StartTasks} is more than the {tasks.Count} tasks of {env.Id} ({string.Join(", ", tasks)})");
        return new TaskCurriculum(options, tasks, state);
    }

    /// <summary>Tasks training draws from: the first <see cref="Active"/> of the mixture's.</summary>
    public int Active { get; private set; }

    /// <summary>The mixture's tasks in curriculum order.</summary>
    public IReadOnlyList<string> Tasks => _tasks;

    /// <summary>The state to checkpoint.</summary>
    public CurriculumState State => new(Active, _recent.Where(p => p.Value.Count > 0).ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal));

    /// <summary>Counts a finished training episode toward its task's recent success (episodes without a known task or success are ignored).</summary>
    public void Observe(EpisodeRecord episode)
    {
        if (episode.Task is not { } task || episode.Success is not bool success || !_recent.TryGetValue(task, out var window)) return;
        window.Enqueue(success);
        if (window.Count > _options.Window) window.Dequeue();
    }

    /// <summary>Adds the next task when every active task has a full window at or above the threshold; true when one joined.</summary>
    public bool TryAdvance()
    {
        if (Active >= _tasks.Count) return false;
        for (int i = 0; i < Active; i++)
        {
            var window = _recent[_tasks[i]];
            if (window.Count < _options.Window || window.Count(s => s) < _options.Threshold * window.Count) return false;
        }
        Active++;
        return true;
    }

    /// <summary>Sets <paramref name="env"/>'s sub-environments to draw unseeded episodes from the active tasks.</summary>
    public void Apply(IVectorEnv env)
    {
        foreach (var mixture in VectorEnvs.FindAll<ITaskMixture>(env)) mixture.ActiveTasks = Active;
    }

    /// <summary>Each task's recent training success as metrics, <c>rolling_success_&lt;task&gt;</c>, for tasks that have played.</summary>
    public IEnumerable<KeyValuePair<string, double>> Metrics() =>
        _tasks.Where(t => _recent[t].Count > 0)
            .Select(t => KeyValuePair.Create("rolling_success_" + MetricsRow.ToKeyPart(t), _recent[t].Count(s => s) / (double)_recent[t].Count));
}
