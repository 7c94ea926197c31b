namespace RLAgents.LanguageModel.Tests.Training;

/// <summary>A small grammar of grid-world sentences: learnable structure, enough variety to need generalisation.</summary>
internal static class CorpusGenerator
{
    private static readonly string[] Colors = ["red", "green", "blue", "purple", "yellow", "grey"];
    private static readonly string[] Objects = ["ball", "box", "key", "door"];
    private static readonly string[] Relations = ["left of", "right of", "in front of", "behind"];

    public static List<string> Sentences(int count, int seed)
    {
        var random = new Random(seed);
        string Pick(string[] items) => items[random.Next(items.Length)];
        var lines = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            lines.Add(random.Next(3) switch
            {
                0 => $"go to the {Pick(Colors)} {Pick(Objects)}",
                1 => $"the {Pick(Colors)} {Pick(Objects)} is {Pick(Relations)} the agent",
                _ => $"pick up the {Pick(Colors)} {Pick(Objects)} and open the {Pick(Colors)} door",
            });
        }
        return lines;
    }
}
