namespace RLAgents.Environments.ClassicControl;

/// <summary>Which equations of motion <see cref="Acrobot"/> integrates (Gymnasium's <c>book_or_nips</c>).</summary>
public enum AcrobotDynamics
{
    /// <summary>Sutton and Barto's book (and the Java implementation): Gymnasium's default.</summary>
    Book,
    /// <summary>The NeurIPS 1995 paper's equations, which miss the θ̇₁² sin θ₂ term of θ̈₂.</summary>
    Nips,
}

/// <summary>Options of <c>Acrobot-v1</c> (JSON keys are the camelCase of the property names).</summary>
public sealed class AcrobotOptions
{
    /// <summary>Equations of motion; default <see cref="AcrobotDynamics.Book"/>, as in Gymnasium.</summary>
    public AcrobotDynamics Dynamics { get; set; } = AcrobotDynamics.Book;
}
