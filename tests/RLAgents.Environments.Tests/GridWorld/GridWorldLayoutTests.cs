using System.Text.Json;
using RLAgents.Environments.GridWorld;

namespace RLAgents.Environments.Tests.GridWorld;

/// <summary>Layout format 2: sequences and box contents in JSON, and one-line errors that name the key path.</summary>
public sealed class GridWorldLayoutTests
{
    private static JsonElement Json(string s) => JsonDocument.Parse(s).RootElement;

    // A 5×5 room with a red ball at (2, 2) and a purple box holding a yellow key at (3, 3).
    private static string Layout(string instr, string boxes = "[[3, 3, 5, 4, 0]]", int format = 2)
    {
        var g = TestWorlds.Room(5, 5);
        g.Put(2, 2, ObjectType.Ball, GridColor.Red);
        g.Put(3, 3, ObjectType.Box, GridColor.Purple);
        return $$"""{"format": {{format}}, "width": 5, "height": 5, "grid": [{{string.Join(",", g.Encode())}}], "agent_pos": [1, 1], "agent_dir": 0, "max_steps": 20, "instr": {{instr}}, "box_contents": {{boxes}}}""";
    }

    private const string Ball = """{"type": "ball", "color": "red", "loc": null, "positions": [[2, 2]]}""";
    private const string Box = """{"type": "box", "color": null, "loc": null, "positions": [[3, 3]]}""";

    [Fact]
    public void SequencesAndBoxContentsRoundTripThroughJson()
    {
        string instr = """{"kind": "after", "a": {"kind": "goto", "desc": """ + Ball + """}, "b": {"kind": "and", "a": {"kind": "pickup", "desc": """ + Box
            + """}, "b": {"kind": "putnext", "move": """ + Box + """, "fixed": """ + Ball + "}}}";
        var layout = GridWorldLayout.FromJson(Json(Layout(instr)));
        Assert.Equal([new BoxContent(3, 3, ObjectType.Key, GridColor.Yellow)], layout.BoxContents);
        using var env = GridWorldEnv.FromLayout(layout, new GridWorldOptions { IncludeDescription = false });
        env.Reset(0);
        Assert.Equal("go to the red ball after you pick up the box and put the box next to the red ball", env.Mission);
        Assert.Equal(ObjectType.Key, env.Grid.Get(3, 3)!.Contains!.Type);
        var again = GridWorldLayout.FromJson(Json(layout.ToJson()));
        Assert.Equal(layout.Encoding, again.Encoding);
        Assert.Equal(layout.BoxContents, again.BoxContents);
        Assert.True(layout.Instruction.SameShape(again.Instruction));
        Assert.Equal(layout.Instruction.Surface(), again.Instruction.Surface());
    }

    [Fact]
    public void FormatOneLayoutsStillRead()
    {
        var layout = GridWorldLayout.FromJson(Json(Layout($$"""{"kind": "goto", "desc": {{Ball}}}""", boxes: "null", format: 1)));
        Assert.Empty(layout.BoxContents);
        Assert.Equal(InstructionKind.GoTo, layout.Instruction.Kind);
    }

    [Theory]
    [InlineData("""{"kind": "before", "a": {"kind": "goto", "desc": {"type": "ball", "color": "red", "loc": "above", "positions": [[2, 2]]}}, "b": {"kind": "goto", "desc": {"type": "ball", "color": "red", "loc": null, "positions": [[2, 2]]}}}""", "$.instr.a.desc.loc")]
    [InlineData("""{"kind": "then"}""", "$.instr.kind")]
    [InlineData("""{"kind": "and", "a": {"kind": "goto", "desc": {"type": "ball", "color": "red", "loc": null, "positions": [[2, 2]]}}}""", "$.instr.b: missing")]
    [InlineData("""{"kind": "goto", "desc": {"type": "wall", "color": null, "loc": null, "positions": [[0, 0]]}}""", "$.instr.desc.type")]
    [InlineData("""{"kind": "goto", "desc": {"type": "ball", "color": "red", "loc": null, "positions": [[2]]}}""", "$.instr.desc.positions[0]")]
    public void BadInstructionsNameTheKeyPath(string instr, string expected)
    {
        var e = Assert.Throws<FormatException>(() => GridWorldLayout.FromJson(Json(Layout(instr))));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void BadBoxContentsAndFormatsAreNamed()
    {
        string goTo = $$"""{"kind": "goto", "desc": {{Ball}}}""";
        var notBox = Assert.Throws<ArgumentException>(() => GridWorldLayout.FromJson(Json(Layout(goTo, "[[2, 2, 5, 4, 0]]"))));
        Assert.Contains("box_contents[0]: no box at (2, 2)", notBox.Message);
        var code = Assert.Throws<FormatException>(() => GridWorldLayout.FromJson(Json(Layout(goTo, "[[3, 3, 5, 9, 0]]"))));
        Assert.Contains("$.box_contents[0]", code.Message);
        var format = Assert.Throws<FormatException>(() => GridWorldLayout.FromJson(Json(Layout(goTo, format: 3))));
        Assert.Contains("$.format", format.Message);
        string openBall = """{"kind": "and", "a": {"kind": "goto", "desc": """ + Ball + """}, "b": {"kind": "open", "desc": {"type": "door", "color": null, "loc": null, "positions": [[2, 2]]}}}""";
        var wrongObject = Assert.Throws<ArgumentException>(() => GridWorldLayout.FromJson(Json(Layout(openBall))));
        Assert.Contains("instr.b.desc", wrongObject.Message);
    }

    [Theory]
    [InlineData("go to the red ball, then pick up a key after you open the door", "more than one")]
    [InlineData("pick up the blue door", "cannot be picked up")]
    [InlineData("put the red ball near the box", "next to")]
    [InlineData("go to the crimson ball", "crimson")]
    [InlineData("walk to the ball", "does not start with")]
    [InlineData("go to red ball", "'the' or 'a'")]
    public void MissionsOutsideTheGrammarAreRejectedWithTheReason(string mission, string reason)
    {
        var e = Assert.Throws<FormatException>(() => InstructionSpec.ParseMission(mission));
        Assert.Contains(mission, e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void MissionParserReadsEveryPartOfTheGrammar()
    {
        const string mission = "put a red ball behind you next to the door on your left and open a door, then pick up the object in front of you";
        var spec = InstructionSpec.ParseMission(mission);
        Assert.Equal(InstructionKind.Before, spec.Kind);
        Assert.Equal(InstructionKind.And, spec.A!.Kind);
        var put = spec.A.A!;
        Assert.Equal((InstructionKind.PutNext, ObjectType.Ball, GridColor.Red, ObjectLocation.Behind, false),
            (put.Kind, put.Target!.Type, put.Target.Color, put.Target.Location, put.Target.Definite));
        Assert.Equal((ObjectType.Door, (GridColor?)null, ObjectLocation.Left, true), (put.Fixed!.Type, put.Fixed.Color, put.Fixed.Location, put.Fixed.Definite));
        Assert.Equal(InstructionKind.Open, spec.A.B!.Kind);
        Assert.Equal((InstructionKind.Pickup, (ObjectType?)null, ObjectLocation.Front), (spec.B!.Kind, spec.B.Target!.Type, spec.B.Target.Location));
        Assert.Equal(mission, spec.Surface());
        Assert.Equal(InstructionKind.After, InstructionSpec.ParseMission("go to the red ball after you open a door").Kind);
    }
}
