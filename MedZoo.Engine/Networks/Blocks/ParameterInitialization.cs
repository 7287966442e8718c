using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks.Blocks;

/// <summary>
/// Whether networks built on the calling thread draw their initial weights. Initialisation draws
/// from torch's process-wide generator; a network built only to be measured (parameter counts on
/// the dashboard's Models page, the <c>models</c> verb) must not draw from it, or a training run
/// in the same process would no longer replay the numbers its seed promises. Inside
/// <see cref="Skip"/> the zoo's layers keep their uninitialised storage (never read) and draw nothing.
/// </summary>
public static class ParameterInitialization
{
    [ThreadStatic] private static int t_skipping;

    /// <summary>True inside <see cref="Skip"/> on this thread.</summary>
    public static bool Skipped => t_skipping > 0;

    /// <summary>Networks built on this thread until the result is disposed draw no random numbers (their weights are garbage).</summary>
    public static IDisposable Skip()
    {
        t_skipping++;
        return new Scope();
    }

    private sealed class Scope : IDisposable
    {
        private readonly int _thread = Environment.CurrentManagedThreadId;
        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            if (Environment.CurrentManagedThreadId != _thread)
                throw new InvalidOperationException("ParameterInitialization.Skip() must end on the thread that began it (it is per thread: do not await inside it)");
            _disposed = true;
            t_skipping--;
        }
    }

    /// <summary>torch.nn's default for convolutions and linear layers: kaiming_uniform(a=√5) weights, uniform(±1/√fan_in) bias.</summary>
    internal static void Default(Tensor weight, Tensor? bias, long fanIn)
    {
        if (Skipped) return;
        using var noGrad = no_grad();
        nn.init.kaiming_uniform_(weight, a: Math.Sqrt(5));
        if (bias is null) return;
        var bound = fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
        nn.init.uniform_(bias, -bound, bound);
    }

    /// <summary>He-normal re-initialisation of the convolutions of <paramref name="network"/> (as some references do after building).</summary>
    internal static void HeNormalConvolutions(nn.Module network, nn.init.FanInOut mode = nn.init.FanInOut.FanIn,
                                              nn.init.NonlinearityType nonlinearity = nn.init.NonlinearityType.LeakyReLU)
    {
        if (Skipped) return;
        using var noGrad = no_grad();
        foreach (var module in network.modules())
            if (module is Convolution3d conv) nn.init.kaiming_normal_(conv.weight, mode: mode, nonlinearity: nonlinearity);
    }
}

/// <summary>
/// Fully connected layer, y = x Wᵀ + b, with the parameters and initialisation of torch.nn.Linear
/// (keys <c>weight</c> (out, in) and <c>bias</c>), honouring <see cref="ParameterInitialization"/>.
/// </summary>
public sealed class LinearLayer : nn.Module<Tensor, Tensor>
{
    /// <summary>Weights (out, in).</summary>
    public Parameter weight;

    /// <summary>Bias (out), or null.</summary>
    public Parameter? bias;

    public LinearLayer(long inFeatures, long outFeatures, bool hasBias = true) : base(nameof(LinearLayer))
    {
        if (inFeatures < 1 || outFeatures < 1)
            throw new ArgumentOutOfRangeException(nameof(inFeatures), $"a linear layer needs at least one input and one output feature (got {inFeatures} → {outFeatures})");
        weight = Convolution3d.NewParameter([outFeatures, inFeatures]);
        bias = hasBias ? Convolution3d.NewParameter([outFeatures]) : null;
        ParameterInitialization.Default(weight, bias, inFeatures);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => nn.functional.linear(input, weight, bias);
}
