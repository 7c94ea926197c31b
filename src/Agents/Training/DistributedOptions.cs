using System.ComponentModel.DataAnnotations;

namespace RLAgents.Agents.Training;

/// <summary>
/// Training across processes and machines (bound from <c>distributed</c>): the <c>rlagents run</c> process is the
/// learner (update rule, run directory, checkpoints, metrics, evaluations) and rollout workers step the envs with
/// a copy of the policy and send trajectory batches (RLAgents.Distributed, on Microsoft Orleans). The experiment's
/// <c>env.numEnvs</c> keeps its meaning: the envs behind one on-policy update, split into <see cref="Workers"/> shards
/// of <c>numEnvs / workers</c> envs, one per worker batch.
/// </summary>
public sealed class DistributedOptions
{
    /// <summary>
    /// Shards of <c>env.numEnvs</c>: an on-policy update waits for this many batches collected with the current
    /// weights (a live worker fills in for a dead one); also the number of worker processes <c>run</c> starts
    /// unless <see cref="LocalWorkers"/> says otherwise.
    /// </summary>
    [Range(1, 1024)]
    public int Workers { get; set; } = 2;

    /// <summary>Worker processes <c>rlagents run</c> starts on this machine; null = <see cref="Workers"/>, 0 = only remote ones (<c>rlagents worker --learner HOST:PORT</c>).</summary>
    [Range(0, 1024)]
    public int? LocalWorkers { get; set; }

    /// <summary>The address the learner listens on and advertises; 127.0.0.1 keeps it to this machine, the machine's address lets other machines join.</summary>
    [Required, MinLength(1)]
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The learner silo's port for silo-to-silo traffic.</summary>
    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>The port workers connect to (<c>rlagents worker --learner HOST:PORT</c>).</summary>
    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Off-policy algorithms (DQN, SAC, TD3): how many weight versions behind the learner a batch may be and still be learned from (on-policy algorithms accept only the current version).</summary>
    [Range(0, 1_000_000)]
    public int MaxPolicyLag { get; set; } = 8;

    /// <summary>Transition batches an off-policy phase (DQN, SAC, TD3) queues at the learner before workers' submissions wait (back-pressure bounds the lag).</summary>
    [Range(1, 1024)]
    public int QueueCapacity { get; set; } = 4;

    /// <summary>A worker not heard from for this long counts as gone (metrics <c>workers</c>; others take its share).</summary>
    [Range(0.1, 86_400)]
    public double WorkerTimeoutSeconds { get; set; } = 30;
}
