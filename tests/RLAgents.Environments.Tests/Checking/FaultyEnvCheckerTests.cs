using System.Text.Json;
using RLAgents.Environments.Checking;
using RLAgents.Environments.Configuration;
using RLAgents.Environments.Tests.Registry;

namespace RLAgents.Environments.Tests.Checking;

/// <summary>The checker finds each deliberate violation of the test plug-in's <c>Faulty</c> env, checked as training builds it.</summary>
public sealed class FaultyEnvCheckerTests
{
    private const string Spec = ":RLAgents.TestPlugin.Faulty";

    /// <summary>The plug-in env made as training makes it: options bound from JSON, time limit and statistics wrappers.</summary>
    private static EnvCheckReport Check(string options, int? maxEpisodeSteps = null, int steps = EnvChecker.DefaultSteps)
    {
        var registry = EnvRegistry.CreateDefault();
        string spec = EnvRegistryTests.PluginPath + Spec;
        var registration = registry.Resolve(spec);
        object bound = OptionsBinder.Bind(JsonDocument.Parse(options).RootElement, registration.OptionsType, "env.options");
        return EnvChecker.Check(() => registry.Make(spec, bound, maxEpisodeSteps), steps);
    }

    [Fact]
    public void AHealthyEnvPassesWithItsTimeLimitExercised()
    {
        var report = Check("""{"fault":"none"}""", maxEpisodeSteps: 7);
        Assert.True(report.Passed, report.ToString());
        // The time limit of the wrapped env is what the bookkeeping check holds the episodes to.
        Assert.Contains("truncated", report[EnvChecker.Bookkeeping].Message);
        Assert.DoesNotContain("(0 truncated)", report[EnvChecker.Bookkeeping].Message);
    }

    [Fact]
    public void ATransposedShapeFailsTheSpaceChecks()
    {
        var report = Check("""{"fault":"transposedShape"}""", steps: 50);
        Assert.Contains("shape [3, 2]; the space declares [2, 3]", report[EnvChecker.ResetObservation].Message);
        Assert.Equal(CheckOutcome.Failed, report[EnvChecker.StepObservation].Outcome);
    }

    [Fact]
    public void AWrongDtypeFailsTheSpaceChecks()
    {
        var report = Check("""{"fault":"wrongDtype"}""", steps: 50);
        Assert.Contains("holds UInt8; the space declares Float32", report[EnvChecker.ResetObservation].Message);
    }

    [Theory]
    [InlineData("nanObservation", EnvChecker.FiniteObservations, "NaN")]
    [InlineData("outOfSpace", EnvChecker.StepObservation, "= 1.5 is outside")]
    [InlineData("nanReward", EnvChecker.Bookkeeping, "reward NaN is not finite")]
    public void ARareFaultIsFoundBecauseEveryStepOfALongRolloutIsChecked(string fault, string check, string expected)
    {
        // Once in 4,000 steps: the old 500-step rollout never saw it.
        var report = Check($$"""{"fault":"{{fault}}","after":4000}""");
        Assert.Equal(CheckOutcome.Failed, report[check].Outcome);
        Assert.Contains(expected, report[check].Message);
        Assert.Contains("step", report[check].Message);
    }

    [Fact]
    public void AStepThatThrowsLateIsFound()
    {
        var report = Check("""{"fault":"stepThrows","after":3000}""");
        Assert.False(report.Passed);
        Assert.Contains("step 3000 fails", report[EnvChecker.StepObservation].Message);
    }

    [Fact]
    public void BothFlagsWithoutATimeLimitFailTheBookkeepingCheck()
    {
        var report = Check("""{"fault":"bothFlags"}""", steps: 100);
        Assert.Contains("terminated and truncated are both true before any time limit", report[EnvChecker.Bookkeeping].Message);
        // The time limit may truncate a terminating step: that is not a violation.
        Assert.True(Check("""{"fault":"none"}""", maxEpisodeSteps: 20, steps: 100).Passed);
    }

    [Fact]
    public void InstancesSharingAStaticObservationBufferFailTheIndependenceCheck()
    {
        var report = Check("""{"fault":"sharedBuffer"}""", steps: 50);
        Assert.Equal([EnvChecker.Independence], report.Failures.Select(f => f.Name));
        Assert.Contains("share an observation buffer", report[EnvChecker.Independence].Message);
    }

    [Fact]
    public void ANullObservationFailsInsteadOfCrashingTheChecker()
    {
        var report = Check("""{"fault":"nullObservation"}""", steps: 50);
        Assert.Contains("returned no observation", report[EnvChecker.StepObservation].Message);
    }
}
