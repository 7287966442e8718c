namespace MedZoo.Engine.Networks;

/// <summary>Hyper-parameter checks whose messages name the parameter and the accepted range.</summary>
internal static class Check
{
    public static void AtLeast(long value, long minimum, string parameter)
    {
        if (value < minimum)
            throw new ArgumentOutOfRangeException(parameter, value, $"{parameter} must be >= {minimum}, got {value}");
    }

    public static void Probability(double value, string parameter)
    {
        if (!(value >= 0 && value < 1))
            throw new ArgumentOutOfRangeException(parameter, value, $"{parameter} must be in [0, 1), got {value}");
    }

    public static void MultipleOf(long value, long factor, string parameter, string why)
    {
        if (value < factor || value % factor != 0)
            throw new ArgumentOutOfRangeException(parameter, value, $"{parameter} must be a positive multiple of {factor} ({why}), got {value}");
    }
}
