using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Engine.Networks;

/// <summary>
/// Base of every zoo network: a <c>Module&lt;Tensor, Tensor&gt;</c> whose <see cref="forward"/> returns
/// the main logits (B, classes, D, H, W) for an input (B, inChannels, D, H, W), and an
/// <see cref="ISegmentationNetwork"/> whose <see cref="ForwardWithAuxiliary"/> also returns the
/// auxiliary outputs (deep supervision, VAE). Both validate the input's shape first and throw an
/// <see cref="ArgumentException"/> naming the broken constraint (instead of a libtorch error deep in a
/// convolution), and both run the network in a dispose scope so that intermediate tensors are freed
/// when the call returns; only the outputs move to the caller's scope.
/// <para>
/// Subclass constructors run inside a dispose scope of their own: TorchSharp 0.107's parameter
/// initialisation (e.g. of a convolution's bias) leaves temporary tensors unowned, for the GC's
/// finalizer; the scope frees them at once (parameters and buffers detach themselves from it), so
/// building a model leaves exactly its parameters and buffers alive.
/// </para>
/// </summary>
public abstract class SegmentationNetwork : nn.Module<Tensor, Tensor>, ISegmentationNetwork
{
    /// <summary>Validates the arguments every network shares; <paramref name="name"/> is the zoo name.</summary>
    protected SegmentationNetwork(string name, int inChannels, int classes, InputConstraints constraints) : base(name)
    {
        Check.AtLeast(inChannels, 1, nameof(inChannels));
        Check.AtLeast(classes, 2, nameof(classes));
        InChannels = inChannels;
        Classes = classes;
        Constraints = constraints;
    }

    /// <inheritdoc />
    public int InChannels { get; }

    /// <inheritdoc />
    public int Classes { get; }

    /// <summary>The spatial sizes this instance accepts.</summary>
    public InputConstraints Constraints { get; }

    /// <inheritdoc />
    public virtual void ValidateInputShape(ReadOnlySpan<long> shape) => Constraints.Validate(GetName(), InChannels, shape);

    /// <summary>Main logits (B, classes, D, H, W); auxiliary branches are not computed.</summary>
    public sealed override Tensor forward(Tensor input)
    {
        ValidateInputShape(input.shape);
        using var scope = NewDisposeScope();
        return Run(input, auxiliary: false).Logits.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public SegmentationOutput ForwardWithAuxiliary(Tensor input)
    {
        ValidateInputShape(input.shape);
        using var scope = NewDisposeScope();
        var output = Run(input, auxiliary: true);
        var deep = new Tensor[output.DeepSupervision.Count];
        for (var i = 0; i < deep.Length; i++) deep[i] = output.DeepSupervision[i].MoveToOuterDisposeScope();
        var vae = output.Vae is { } v
            ? new VaeOutput(v.Reconstruction.MoveToOuterDisposeScope(), v.Mean.MoveToOuterDisposeScope(), v.LogVariance.MoveToOuterDisposeScope())
            : null;
        return new SegmentationOutput(output.Logits.MoveToOuterDisposeScope(), deep, vae);
    }

    /// <summary>
    /// The network proper, called with a validated input inside a dispose scope. With
    /// <paramref name="auxiliary"/> false, implementations skip branches that only feed auxiliary
    /// outputs (the VAE, the auxiliary classifier) and may return no auxiliary tensors.
    /// </summary>
    protected abstract SegmentationOutput Run(Tensor input, bool auxiliary);
}
