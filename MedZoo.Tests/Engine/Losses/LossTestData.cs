using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Losses;

/// <summary>Small deterministic tensors for loss tests.</summary>
internal static class LossTestData
{
    /// <summary>Random class indices (B, size, size, size), int64, every class present in every sample.</summary>
    public static Tensor Labels(int batch, int classes, int size, int seed)
    {
        var random = new Random(seed);
        var perSample = size * size * size;
        var values = new long[batch * perSample];
        for (var i = 0; i < values.Length; i++)
            values[i] = i % perSample < classes ? i % perSample : random.Next(classes);
        return tensor(values, [batch, size, size, size]);
    }

    /// <summary>Labels from explicit values, shape (B, D, H, W).</summary>
    public static Tensor Labels(long[] values, params long[] shape) => tensor(values, shape);

    /// <summary>One-hot float32 (B, C, …) of class indices.</summary>
    public static Tensor OneHot(Tensor labels, int classes)
    {
        using var hot = nn.functional.one_hot(labels, classes);
        var order = new long[hot.dim()];
        order[0] = 0;
        order[1] = hot.dim() - 1;
        for (var d = 2; d < hot.dim(); d++) order[d] = d - 1;
        using var permuted = hot.permute(order);
        return permuted.to(ScalarType.Float32);
    }

    /// <summary>Logits that put probability ≈ 1 on <paramref name="labels"/> (margin 20).</summary>
    public static Tensor ConfidentLogits(Tensor labels, int classes, double margin = 20)
    {
        using var hot = OneHot(labels, classes);
        return hot * margin;
    }

    /// <summary>Random normal logits (B, C, size³) that require grad.</summary>
    public static Tensor RandomLogits(int batch, int classes, int size, int seed)
    {
        var generator = new Generator((ulong)seed);
        using var values = randn([batch, classes, size, size, size], generator: generator);
        return values.clone().requires_grad_(true);
    }

    /// <summary>Float tensor of explicit probabilities/logits with the given shape.</summary>
    public static Tensor Values(float[] values, params long[] shape) => tensor(values, shape);

    public static double Scalar(Tensor t)
    {
        using var value = t.detach().to(ScalarType.Float64);
        return value.item<double>();
    }

    public static double[] Array(Tensor t)
    {
        using var cpu = t.detach().to(ScalarType.Float64).cpu().contiguous();
        return cpu.data<double>().ToArray();
    }
}
