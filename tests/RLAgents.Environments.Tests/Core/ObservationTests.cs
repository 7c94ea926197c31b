namespace RLAgents.Environments.Tests.Core;

public sealed class ObservationTests
{
    private static readonly ObservationSpace Space = new(
        new Modality("image", new BoxSpace(0, 255, [2, 3], DType.UInt8)),
        new Modality("direction", new DiscreteSpace(4)),
        new Modality("mission", new TextSpace(20)),
        new Modality("vector", new BoxSpace(-5f, 5f, [2])));

    private static Observation Filled()
    {
        var o = new Observation(Space);
        o.Bytes("image")[4] = 200;
        o.SetInt(1, 2);
        o.SetText(2, "go north");
        o.Floats("vector")[1] = -1.5f;
        return o;
    }

    [Fact]
    public void CloneIsDeepAndContentEqual()
    {
        var a = Filled();
        var b = a.Clone();
        Assert.True(a.ContentEquals(b));
        a.Bytes(0)[4] = 1;
        Assert.Equal(200, b.Bytes(0)[4]);
        Assert.False(a.ContentEquals(b));
    }

    [Fact]
    public void ContentEqualitySeesEveryModality()
    {
        var a = Filled();
        var b = Filled();
        b.SetInt(1, 3);
        Assert.False(a.ContentEquals(b));
        b = Filled();
        b.SetText(2, "go south");
        Assert.False(a.ContentEquals(b));
        b = Filled();
        b.Floats(3)[0] = -0f; // bitwise comparison: -0 differs from +0
        Assert.False(a.ContentEquals(b));
        a.Floats(3)[0] = float.NaN;
        b = a.Clone();
        Assert.True(a.ContentEquals(b)); // NaN equals itself bit for bit
    }

    [Fact]
    public void CopyToRequiresTheSameLayout()
    {
        var a = Filled();
        var b = new Observation(Space);
        a.CopyTo(b);
        Assert.True(a.ContentEquals(b));
        var other = new Observation(ObservationSpace.Single("state", new BoxSpace(0f, 1f, [4])));
        Assert.Throws<ArgumentException>(() => a.CopyTo(other));
        Assert.False(a.ContentEquals(other));
    }

    [Fact]
    public void WrongStorageAccessNamesTheModality()
    {
        var o = new Observation(Space);
        var ex = Assert.Throws<InvalidOperationException>(() => o.Floats(0));
        Assert.Contains("'image'", ex.Message);
        Assert.Throws<InvalidOperationException>(() => o.GetInt(2));
        Assert.Throws<InvalidOperationException>(() => o.SetText(1, "x"));
        Assert.Throws<KeyNotFoundException>(() => o.Floats("nope"));
    }

    [Fact]
    public void BatchSetGetAndCopySlotRoundTrip()
    {
        var batch = new ObservationBatch(Space, 3);
        var a = Filled();
        batch.Set(2, a);
        Assert.Equal(200, batch.Bytes(0)[2 * 6 + 4]);
        Assert.Equal(2, batch.Ints(1)[2]);
        Assert.Equal("go north", batch.Texts(2)[2]);
        Assert.Equal(-1.5f, batch.Floats(3)[2 * 2 + 1]);
        var back = new Observation(Space);
        batch.Get(2, back);
        Assert.True(a.ContentEquals(back));
        var other = new ObservationBatch(Space, 2);
        batch.CopySlot(2, other, 0);
        other.Get(0, back);
        Assert.True(a.ContentEquals(back));
        Assert.Throws<InvalidOperationException>(() => batch.Floats(0));
    }
}
