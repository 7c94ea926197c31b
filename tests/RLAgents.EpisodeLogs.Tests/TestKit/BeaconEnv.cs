using System.Text.Json;
using RLAgents.Environments;
using RLAgents.EpisodeLogs;

namespace RLAgents.EpisodeLogs.Tests;

/// <summary>Options of the test env <see cref="BeaconEnv"/>.</summary>
public sealed class BeaconOptions
{
    /// <summary>Grid side in cells.</summary>
    public int Size { get; set; } = 8;

    /// <summary>Reward per step that does not reach the beacon.</summary>
    public double StepPenalty { get; set; } = -0.05;
}

/// <summary>
/// A deterministic toy env with all four modality storages: walk to a beacon on a small grid.
/// <c>image</c> uint8 [Size*4, Size*4, 3] (big enough to be zlib-compressed), <c>state</c>
/// float32 [3] (x, y, distance), <c>direction</c> Discrete(4), <c>mission</c> text.
/// Actions: 0 east, 1 south, 2 west, 3 north. Reaching the beacon terminates with reward 1 and success.
/// It can capture and restore its start state.
/// </summary>
public sealed class BeaconEnv : Env, IStartStateEnv
{
    public static readonly EnvId BeaconId = new("Beacon", 2);
    private static readonly DiscreteSpace Moves = new(4);
    private readonly BeaconOptions _options;
    private readonly ObservationSpace _space;
    private readonly Observation _obs;
    private int _x, _y, _gx, _gy, _dir;

    public BeaconEnv(BeaconOptions options)
    {
        _options = options;
        int px = options.Size * 4;
        _space = new ObservationSpace(
            new Modality("image", new BoxSpace(0, 255, [px, px, 3], DType.UInt8)),
            new Modality("state", new BoxSpace(-100f, 100f, [3])),
            new Modality("direction", new DiscreteSpace(4)),
            new Modality("mission", new TextSpace(64)));
        _obs = new Observation(_space);
    }

    public static EnvRegistration Registration { get; } = new(BeaconId, typeof(BeaconOptions), o => new BeaconEnv((BeaconOptions)o), 40, "Test: walk to a beacon.");

    public override EnvId Id => BeaconId;
    public override ObservationSpace ObservationSpace => _space;
    public override DiscreteSpace ActionSpace => Moves;

    protected override ResetResult ResetCore()
    {
        _x = Random.NextInt(_options.Size);
        _y = Random.NextInt(_options.Size);
        do { _gx = Random.NextInt(_options.Size); _gy = Random.NextInt(_options.Size); } while (_gx == _x && _gy == _y);
        _dir = 0;
        Write();
        return new ResetResult(_obs, default);
    }

    protected override StepResult StepCore(int action)
    {
        _dir = action;
        (int dx, int dy) = action switch { 0 => (1, 0), 1 => (0, 1), 2 => (-1, 0), _ => (0, -1) };
        _x = Math.Clamp(_x + dx, 0, _options.Size - 1);
        _y = Math.Clamp(_y + dy, 0, _options.Size - 1);
        Write();
        bool reached = _x == _gx && _y == _gy;
        return new StepResult(_obs, reached ? 1.0 : _options.StepPenalty, reached, false, new StepInfo(IsSuccess: reached));
    }

    public string CaptureStartState() => JsonSerializer.Serialize(new[] { _x, _y, _gx, _gy });

    public Observation RestoreStartState(string startState)
    {
        var s = JsonSerializer.Deserialize<int[]>(startState)!;
        (_x, _y, _gx, _gy, _dir) = (s[0], s[1], s[2], s[3], 0);
        Write();
        return _obs;
    }

    private void Write()
    {
        var img = _obs.Bytes(0);
        img.Clear();
        int px = _options.Size * 4;
        Paint(img, px, _gx, _gy, 250, 200, 0);
        Paint(img, px, _x, _y, 30, 90, 255);
        var st = _obs.Floats(1);
        st[0] = _x;
        st[1] = _y;
        st[2] = MathF.Sqrt((_x - _gx) * (_x - _gx) + (_y - _gy) * (_y - _gy));
        _obs.SetInt(2, _dir);
        _obs.SetText(3, $"go to the beacon at {_gx},{_gy}");
    }

    private static void Paint(Span<byte> img, int px, int cx, int cy, byte r, byte g, byte b)
    {
        for (int y = cy * 4; y < cy * 4 + 4; y++)
            for (int x = cx * 4; x < cx * 4 + 4; x++)
            {
                int i = (y * px + x) * 3;
                img[i] = r; img[i + 1] = g; img[i + 2] = b;
            }
    }
}
