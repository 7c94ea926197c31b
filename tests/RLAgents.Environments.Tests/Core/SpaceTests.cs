namespace RLAgents.Environments.Tests.Core;

public sealed class SpaceTests
{
    [Fact]
    public void Discrete_contains_its_range_only()
    {
        var space = new DiscreteSpace(3, start: -1);
        Assert.True(space.Contains(-1) && space.Contains(1));
        Assert.False(space.Contains(2) || space.Contains(-2) || space.Contains(int.MinValue));
        Assert.Equal("Discrete(3, start=-1)", space.ToString());
        Assert.Equal("Discrete(2)", new DiscreteSpace(2).ToString());
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiscreteSpace(0));
    }

    [Fact]
    public void Discrete_seeded_samples_repeat_and_cover_the_space()
    {
        var space = new DiscreteSpace(5, start: 10);
        var r1 = new Rng(3UL);
        var r2 = new Rng(3UL);
        var s1 = Enumerable.Range(0, 500).Select(_ => space.Sample(r1)).ToArray();
        var s2 = Enumerable.Range(0, 500).Select(_ => space.Sample(r2)).ToArray();
        Assert.Equal(s1, s2);
        Assert.All(s1, v => Assert.True(space.Contains(v)));
        Assert.Equal(5, s1.Distinct().Count());
    }

    [Fact]
    public void Multi_discrete_checks_each_entry()
    {
        var space = new MultiDiscreteSpace(2, 3);
        Assert.True(space.Contains([1, 2]));
        Assert.False(space.Contains([2, 0]));
        Assert.False(space.Contains([0, -1]));
        Assert.False(space.Contains([0]));
        var rng = new Rng(1UL);
        Span<int> sample = stackalloc int[2];
        for (int i = 0; i < 100; i++)
        {
            space.Sample(rng, sample);
            Assert.True(space.Contains(sample));
        }
        Assert.Equal("MultiDiscrete([2, 3])", space.ToString());
    }

    [Fact]
    public void Box_contains_checks_size_bounds_and_nan()
    {
        var box = new BoxSpace([-1f, 0f], [1f, float.PositiveInfinity], [2]);
        Assert.True(box.Contains([0.5f, 1e30f]));
        Assert.True(box.Contains([-1f, 0f]));
        Assert.False(box.Contains([1.0001f, 0f]));
        Assert.False(box.Contains([0f, -0.1f]));
        Assert.False(box.Contains([float.NaN, 0f]));
        Assert.False(box.Contains([0f]));
        Assert.Equal(2, box.Size);
        Assert.Equal("Box(float32, [2])", box.ToString());
        Assert.Equal("Box(uint8, [7, 7, 3], 0, 255)", new BoxSpace(0, 255, [7, 7, 3], DType.UInt8).ToString());
        Assert.Equal("Box(float32, [3], -inf, inf)", new BoxSpace(float.NegativeInfinity, float.PositiveInfinity, [3]).ToString());
    }

    [Fact]
    public void Box_rejects_inconsistent_bounds_and_shapes()
    {
        Assert.Throws<ArgumentException>(() => new BoxSpace([1f], [0f], [1]));
        Assert.Throws<ArgumentException>(() => new BoxSpace([0f], [1f], [2]));
        Assert.Throws<ArgumentException>(() => new BoxSpace(0f, 1f, [0]));
        Assert.Throws<ArgumentException>(() => new BoxSpace(0f, 1f, []));
    }

    [Fact]
    public void Box_samples_lie_in_bounds_and_repeat_with_the_seed()
    {
        var box = new BoxSpace([-2f, 0f, float.NegativeInfinity, float.NegativeInfinity], [2f, float.PositiveInfinity, 5f, float.PositiveInfinity], [4]);
        var a = new float[4];
        var b = new float[4];
        var r1 = new Rng(8UL);
        var r2 = new Rng(8UL);
        for (int i = 0; i < 200; i++)
        {
            box.Sample(r1, a);
            box.Sample(r2, b);
            Assert.Equal(a, b);
            Assert.True(box.Contains(a), string.Join(", ", a));
        }
        var bytes = new BoxSpace(3, 9, [16], DType.UInt8);
        var data = new byte[16];
        bytes.Sample(new Rng(2UL), data);
        Assert.True(bytes.Contains(data));
        Assert.Contains(data, v => v != data[0]);
    }

    [Fact]
    public void Text_space_checks_charset_length_and_vocabulary()
    {
        var chars = new TextSpace(5, "abc", minLength: 1);
        Assert.True(chars.Contains("abca"));
        Assert.False(chars.Contains("abcd"));
        Assert.False(chars.Contains("aaaaaa"));
        Assert.False(chars.Contains(""));
        Assert.False(chars.Contains(null));
        var rng = new Rng(4UL);
        for (int i = 0; i < 50; i++) Assert.True(chars.Contains(chars.Sample(rng)));
        Assert.Equal("Text(max_length=5, charset=3 chars)", chars.ToString());

        var words = new TextSpace(3, ["go", "to", "the", "red", "ball"]);
        Assert.True(words.Contains("go to ball"));
        Assert.False(words.Contains("go to the red ball"));
        Assert.False(words.Contains("go home"));
        Assert.Equal(words.Sample(new Rng(6UL)), words.Sample(new Rng(6UL)));
        for (int i = 0; i < 50; i++) Assert.True(words.Contains(words.Sample(rng)));
        Assert.Equal("Text(max_words=3, vocabulary=5)", words.ToString());
    }

    [Fact]
    public void Observation_space_reports_the_first_violation_by_modality()
    {
        var space = new ObservationSpace(
            new Modality("image", new BoxSpace(0, 10, [2, 2], DType.UInt8)),
            new Modality("direction", new DiscreteSpace(4)),
            new Modality("mission", new TextSpace(10)),
            new Modality("vector", new BoxSpace(-1f, 1f, [3])));
        Assert.Equal(4, space.Count);
        Assert.Equal(3, space.IndexOf("vector"));
        Assert.Equal(ModalityStorage.UInt8, space["image"].Storage);
        var obs = new Observation(space);
        Assert.Null(space.Violation(obs));
        obs.Bytes(0)[3] = 11;
        Assert.Equal("modality 'image'[3] = 11 is outside Box(uint8, [2, 2], 0, 10)", space.Violation(obs));
        obs.Bytes(0)[3] = 0;
        obs.SetInt(1, 4);
        Assert.Contains("'direction'", space.Violation(obs));
        obs.SetInt(1, 3);
        obs.SetText(2, "this is far too long");
        Assert.Contains("'mission'", space.Violation(obs));
        obs.SetText(2, "ok");
        obs.Floats(3)[0] = float.NaN;
        Assert.Equal("modality 'vector'[0] = NaN is outside Box(float32, [3], -1, 1)", space.Violation(obs));
        // A transposed shape has the right size but another layout.
        var transposed = new ObservationSpace(
            new Modality("image", new BoxSpace(0, 10, [2, 2], DType.UInt8)), new Modality("direction", new DiscreteSpace(4)),
            new Modality("mission", new TextSpace(10)), new Modality("vector", new BoxSpace(-1f, 1f, [3, 1])));
        Assert.False(space.SameLayout(transposed));
        Assert.Equal("modality 'vector' has shape [3, 1]; the space declares [3]", space.Violation(new Observation(transposed)));
        Assert.Contains("image: Box(uint8", space.ToString());
        Assert.Throws<ArgumentException>(() => new ObservationSpace(new Modality("a", new DiscreteSpace(2)), new Modality("a", new DiscreteSpace(3))));
        Assert.Throws<ArgumentException>(() => new Modality("m", new MultiDiscreteSpace(2)));
    }
}
