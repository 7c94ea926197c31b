using RLAgents.Environments;
using RLAgents.LanguageModel.Checkpoints;
using RLAgents.Policies;

namespace RLAgents.Agents.Training;

/// <summary>
/// A trained policy outside its run: the agent rebuilt from the experiment stored with a checkpoint,
/// for the spaces of that experiment's env (memory included), with the checkpoint's weights, in
/// evaluation mode. What <c>rlagents export</c> and <c>rlagents serve</c> start from.
/// </summary>
public sealed class TrainedPolicy : IDisposable
{
    private TrainedPolicy(Agent agent, ExperimentOptions experiment, string checkpointId, string weightsPath, long step)
    {
        Agent = agent;
        Experiment = experiment;
        CheckpointId = checkpointId;
        WeightsPath = weightsPath;
        Step = step;
    }

    /// <summary>The agent (its <see cref="Agent.Policy"/> holds the weights).</summary>
    public Agent Agent { get; }

    /// <summary>The policy.</summary>
    public Policy Policy => Agent.Policy;

    /// <summary>The experiment the checkpoint belongs to.</summary>
    public ExperimentOptions Experiment { get; }

    /// <summary>The checkpoint's id (<c>phase-P-step-S</c>).</summary>
    public string CheckpointId { get; }

    /// <summary>The safetensors file the weights came from.</summary>
    public string WeightsPath { get; }

    /// <summary>Env steps of training behind the weights.</summary>
    public long Step { get; }

    /// <summary>Loads a checkpoint (<c>.safetensors</c>, its <c>.json</c>, or a run directory for its latest).</summary>
    /// <exception cref="RunFormatException">A missing, damaged or foreign checkpoint, named in one line.</exception>
    public static TrainedPolicy Load(string path)
    {
        var checkpoint = Checkpoint.Load(path);
        try
        {
            var options = checkpoint.Experiment;
            ObservationSpace observations;
            DiscreteSpace actions;
            using (var env = AgentFactory.MakeEnv(options, 1))
                (observations, actions) = (env.SingleObservationSpace, env.SingleActionSpace.AsDiscrete("Exporting and serving policies"));
            var agent = AgentFactory.CreateAgent(options, observations, actions);
            try
            {
                ModelWeights.Load(agent.Policy, checkpoint.Tensors, checkpoint.WeightsPath, _ => true, "policy.");
            }
            catch
            {
                agent.Dispose();
                throw;
            }
            agent.Policy.eval();
            return new TrainedPolicy(agent, options, checkpoint.Id, checkpoint.WeightsPath, checkpoint.State.EnvSteps);
        }
        finally
        {
            checkpoint.DisposeTensors();
        }
    }

    /// <inheritdoc />
    public void Dispose() => Agent.Dispose();
}
