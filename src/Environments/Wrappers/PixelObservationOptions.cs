using System.ComponentModel.DataAnnotations;

namespace RLAgents.Environments.Wrappers;

/// <summary>Which picture a pixel observation shows (see <see cref="IPixelObservationEnv"/>).</summary>
public enum PixelView
{
    /// <summary>What the agent sees, from its own point of view (GridWorld: Minigrid's <c>RGBImgPartialObsWrapper</c>, 7·T × 7·T × 3).</summary>
    Agent,

    /// <summary>The whole scene (GridWorld: Minigrid's <c>get_frame(highlight=False)</c>).</summary>
    Full,

    /// <summary>The whole scene with the part the agent sees highlighted (GridWorld: <c>get_frame(highlight=True)</c>, what <c>RGBImgObsWrapper</c> shows).</summary>
    FullHighlighted,
}

/// <summary>
/// Options of a pixel observation (bound from an experiment's <c>env.pixels</c>): which picture,
/// at what scale, and under which modality name. The environment family draws it through its
/// <see cref="IPixelObservationEnv"/> capability.
/// </summary>
public sealed class PixelObservationOptions
{
    /// <summary>The picture: the agent's view or the whole scene, with or without the agent's view highlighted.</summary>
    public PixelView View { get; set; } = PixelView.Agent;

    /// <summary>Pixels per cell side for cell-based worlds (Minigrid's observation wrappers default to 8).</summary>
    [Range(1, 64)]
    public int TileSize { get; set; } = 8;

    /// <summary>
    /// Name of the pixel modality. <c>image</c> (the default) replaces the environment's own image
    /// in place, as Minigrid's wrappers do; any other name (e.g. <c>rgb</c>) adds the picture as a
    /// new modality after the existing ones and keeps the rest.
    /// </summary>
    [Required]
    public string Modality { get; set; } = "image";
}
