using RLAgents.Core.Metrics;

namespace RLAgents.Core.Tests.Metrics;

public sealed class MetricsKeyTests
{
    [Theory]
    [InlineData("GoToLocal", "go_to_local")]
    [InlineData("PutNextS5N3", "put_next_s5_n3")]
    [InlineData("BossLevel", "boss_level")]
    [InlineData("GoToObjMazeS4R2", "go_to_obj_maze_s4_r2")]
    [InlineData("CartPole-v1", "cart_pole_v1")]
    [InlineData("HTMLParser", "html_parser")]
    public void NamesBecomeSnakeCaseKeyParts(string name, string key) => Assert.Equal(key, MetricsRow.ToKeyPart(name));

    [Fact]
    public void AKeyPartIsAValidKeyEvenFromADigitOrPunctuation()
    {
        Assert.True(MetricsRow.IsValidKey(MetricsRow.ToKeyPart("3D Level")));
        Assert.True(MetricsRow.IsValidKey(MetricsRow.ToKeyPart("--")));
    }
}
