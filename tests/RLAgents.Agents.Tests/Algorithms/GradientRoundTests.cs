using RLAgents.Agents.Algorithms;

namespace RLAgents.Agents.Tests.Algorithms;

/// <summary>A round of off-policy gradient steps: averages over the applied steps, skips and names the non-finite ones.</summary>
public class GradientRoundTests
{
    [Fact]
    public void AveragesTheFiniteStepsAndCountsAndNamesTheFirstNonFiniteOne()
    {
        var round = new GradientRound();
        round.Add(new Dictionary<string, double> { ["critic_loss"] = 1, ["critic_grad_norm"] = 2 });
        round.Add(new Dictionary<string, double> { ["critic_loss"] = double.PositiveInfinity, ["critic_grad_norm"] = double.NaN });
        round.Add(new Dictionary<string, double> { ["critic_loss"] = 3, ["critic_grad_norm"] = 4, ["actor_loss"] = 5 });
        round.Add(new Dictionary<string, double> { ["critic_loss"] = 1, ["actor_grad_norm"] = double.NaN });
        var metrics = new Dictionary<string, double>();
        round.WriteTo(metrics);
        Assert.Equal(2, metrics["critic_loss"]);
        Assert.Equal(3, metrics["critic_grad_norm"]);
        Assert.Equal(5, metrics["actor_loss"]); // present in one applied step: averaged over that one
        Assert.Equal(2, metrics["skipped_updates"]);
        Assert.Equal("critic_loss = Infinity", round.NonFinite);
    }

    [Fact]
    public void ARoundOfFiniteStepsReportsNoSkips()
    {
        var round = new GradientRound();
        round.Add(new Dictionary<string, double> { ["loss"] = 1, ["grad_norm"] = 1 });
        var metrics = new Dictionary<string, double>();
        round.WriteTo(metrics);
        Assert.Null(round.NonFinite);
        Assert.DoesNotContain("skipped_updates", metrics.Keys);
    }
}
