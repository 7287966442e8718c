namespace MedZoo.Web.Imaging;

/// <summary>What an error map shows at one voxel.</summary>
public enum ErrorKind : byte
{
    /// <summary>Neither the prediction nor the ground truth has the class there.</summary>
    None = 0,
    /// <summary>Both have it (true positive).</summary>
    TruePositive = 1,
    /// <summary>Predicted but not in the ground truth (false positive).</summary>
    FalsePositive = 2,
    /// <summary>In the ground truth but not predicted (false negative).</summary>
    FalseNegative = 3,
}

/// <summary>
/// Per-class error maps of a prediction against the ground truth (class indices). For one class c:
/// TP where both are c, FP where only the prediction is c, FN where only the truth is c. For all
/// foreground classes at once (<see cref="AllClasses"/>): TP where they agree on a foreground
/// class, FP where the prediction says a foreground class the truth does not have there (wrong
/// class included), FN where the truth has a foreground class and the prediction says background.
/// The browser's review module draws the same map per slice; FP and FN get distinct colours.
/// </summary>
public static class ErrorMap
{
    /// <summary>The class argument meaning every foreground class.</summary>
    public const int AllClasses = -1;

    /// <summary>The error kind at one voxel.</summary>
    public static ErrorKind At(byte prediction, byte truth, int cls)
    {
        if (cls == AllClasses)
        {
            if (prediction == truth) return truth > 0 ? ErrorKind.TruePositive : ErrorKind.None;
            return prediction > 0 ? ErrorKind.FalsePositive : ErrorKind.FalseNegative;
        }
        var p = prediction == cls;
        var t = truth == cls;
        return (p, t) switch
        {
            (true, true) => ErrorKind.TruePositive,
            (true, false) => ErrorKind.FalsePositive,
            (false, true) => ErrorKind.FalseNegative,
            _ => ErrorKind.None,
        };
    }

    /// <summary>The map of a whole volume or slice.</summary>
    public static ErrorKind[] Compute(ReadOnlySpan<byte> prediction, ReadOnlySpan<byte> truth, int cls)
    {
        Check(prediction, truth, cls);
        var map = new ErrorKind[prediction.Length];
        for (var i = 0; i < map.Length; i++) map[i] = At(prediction[i], truth[i], cls);
        return map;
    }

    /// <summary>False-positive and false-negative voxels of one class (or all foreground classes).</summary>
    public static (long FalsePositives, long FalseNegatives) Count(ReadOnlySpan<byte> prediction, ReadOnlySpan<byte> truth, int cls)
    {
        Check(prediction, truth, cls);
        long fp = 0, fn = 0;
        for (var i = 0; i < prediction.Length; i++)
        {
            switch (At(prediction[i], truth[i], cls))
            {
                case ErrorKind.FalsePositive: fp++; break;
                case ErrorKind.FalseNegative: fn++; break;
            }
        }
        return (fp, fn);
    }

    private static void Check(ReadOnlySpan<byte> prediction, ReadOnlySpan<byte> truth, int cls)
    {
        if (prediction.Length != truth.Length)
            throw new ArgumentException($"prediction has {prediction.Length} voxels but the ground truth has {truth.Length}", nameof(truth));
        if (cls < AllClasses || cls > byte.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(cls), cls, "class must be 0..255, or -1 for every foreground class");
    }
}
