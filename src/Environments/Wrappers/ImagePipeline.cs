using RLAgents.Environments.Configuration;

namespace RLAgents.Environments.Wrappers;

/// <summary>
/// The image observation wrappers of an experiment (<c>env.pixels</c>, <c>env.grayscale</c>,
/// <c>env.resize</c>, <c>env.frameStack</c>), applied to one environment in that fixed order:
/// draw the picture, drop colour, change size, stack frames. Sections left null are skipped.
/// </summary>
public sealed class ImagePipeline
{
    /// <summary>A pipeline of the given sections; <paramref name="prefix"/> is the key path of their parent (<c>env</c>) in error messages.</summary>
    public ImagePipeline(PixelObservationOptions? pixels, GrayscaleOptions? grayscale, ResizeOptions? resize, FrameStackOptions? frameStack, string prefix = "env")
    {
        Pixels = pixels;
        Grayscale = grayscale;
        Resize = resize;
        FrameStack = frameStack;
        Prefix = prefix;
    }

    /// <summary>The picture drawn by the environment family, or null to keep its own observations.</summary>
    public PixelObservationOptions? Pixels { get; }

    /// <summary>RGB → luma, or null.</summary>
    public GrayscaleOptions? Grayscale { get; }

    /// <summary>Resizing, or null.</summary>
    public ResizeOptions? Resize { get; }

    /// <summary>Frame stacking, or null.</summary>
    public FrameStackOptions? FrameStack { get; }

    /// <summary>Key path of the sections' parent in error messages.</summary>
    public string Prefix { get; }

    /// <summary>True when no section is given (the environment's observations pass unchanged).</summary>
    public bool IsEmpty => Pixels is null && Grayscale is null && Resize is null && FrameStack is null;

    /// <summary>
    /// <paramref name="env"/> wrapped by every given section (the result owns it; on an error it is
    /// disposed). Mistakes throw <see cref="ConfigurationException"/> naming the section's key.
    /// </summary>
    public IEnv Wrap(IEnv env)
    {
        try
        {
            if (Pixels is { } pixels)
            {
                var family = env.Find<IPixelObservationEnv>()
                    ?? throw new ConfigurationException($"{Prefix}.pixels", $"{env.Id} cannot draw pixel observations (it does not implement {nameof(IPixelObservationEnv)})");
                env = family.AddPixelObservation(env, pixels, $"{Prefix}.pixels");
            }
            if (Grayscale is { } grayscale) env = new GrayscaleObservation(env, grayscale, $"{Prefix}.grayscale");
            if (Resize is { } resize) env = new ResizeObservation(env, resize, $"{Prefix}.resize");
            if (FrameStack is { } frameStack) env = new FrameStackObservation(env, frameStack, $"{Prefix}.frameStack");
            return env;
        }
        catch
        {
            // A throwing wrapper constructor never took ownership; env is the outermost built so far.
            env.Dispose();
            throw;
        }
    }
}
