using System.Numerics;
using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MedZoo.Engine.Training.Optimizers;

/// <summary>
/// Adam (torch.optim.Adam's algorithm, TorchSharp's options and state) whose update is one pass over
/// each parameter instead of TorchSharp's eight operations.
/// </summary>
/// <remarks>
/// <para>Why: TorchSharp's Adam runs mul_, add_, mul_, addcmul_, sqrt, div, add_ and addcdiv_ per parameter
/// inside one dispose scope for the whole step, so the two temporary denominators of every parameter stay
/// allocated until the step ends (2 × 182 MB for VNET) and each pass reads the parameter's state again from
/// memory. On VNET's 45.6 M parameters that made the optimizer a quarter of a training step (issue 19). Here
/// each element is read once and written once (PyTorch's <c>fused=True</c>, written for the CPU in C#), with
/// no temporaries; large parameters are split across <see cref="get_num_threads"/> threads.</para>
/// <para>Same results: float32 arithmetic in the order libtorch's kernels use, so updates match TorchSharp's
/// Adam to rounding (libtorch may fuse a multiply-add where this code rounds twice); tests compare both with
/// weight decay, AMSGrad and maximize over several steps.</para>
/// <para>Where a parameter is not a dense float32 CPU tensor sharing its gradient's and state's layout (a GPU,
/// float64, a non-contiguous view), that parameter takes TorchSharp's own operations, so every case still works.</para>
/// <para>The class is named <c>Adam</c> because TorchSharp writes the optimizer's class name into its state
/// dictionaries: checkpoints of this optimizer and of TorchSharp's load into each other.</para>
/// </remarks>
public sealed class Adam : TorchSharp.Modules.Adam
{
    /// <summary>Below this many elements a parameter is updated on the calling thread: starting threads costs more.</summary>
    private const long ParallelThreshold = 1 << 17;

    /// <summary>Elements per chunk handed to one thread (1 MiB of float32 per tensor).</summary>
    private const long ChunkElements = 1 << 18;

    private static readonly Lazy<bool> PointersAvailable = new(ProbePointers);

    /// <summary>Adam with torch.optim.Adam's defaults (β = 0.9, 0.999; ε = 1e-8).</summary>
    public Adam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 0, bool amsgrad = false, bool maximize = false)
        : base(parameters, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize)
    {
    }

    /// <summary>Parameter updates done in one pass so far (for tests and <c>bench</c>).</summary>
    public long FusedUpdates { get; private set; }

    /// <summary>Parameter updates that took TorchSharp's operations (parameters not eligible for the single pass).</summary>
    public long FallbackUpdates { get; private set; }

    /// <inheritdoc />
    public override Tensor step(Func<Tensor>? closure = null)
    {
        Tensor? loss = null;
        if (closure is not null)
        {
            using (enable_grad())
                loss = closure();
        }
        using (no_grad())
        {
            foreach (var group in _parameter_groups)
            {
                var options = (Options)group.Options;
                var c = new Settings(options.LearningRate!.Value, options.beta1!.Value, options.beta2!.Value, options.eps!.Value,
                    options.weight_decay!.Value, options.amsgrad!.Value, options.maximize!.Value);
                foreach (var param in group.Parameters)
                {
                    using var grad = param.grad;
                    if (grad is null) continue;
                    var state = (State)_state[param.Handle];
                    state.step += 1;
                    if (c.AmsGrad && state.max_exp_avg_sq is null)
                        state.max_exp_avg_sq = zeros_like(state.exp_avg_sq).DetachFromDisposeScope();
                    if (TryUpdateInOnePass(param, grad, state, c)) FusedUpdates++;
                    else
                    {
                        UpdateWithTorchOperations(param, grad, state, c);
                        FallbackUpdates++;
                    }
                }
            }
        }
        return loss!;
    }

    /// <summary>One group's hyper-parameters.</summary>
    private readonly record struct Settings(double Lr, double Beta1, double Beta2, double Eps, double WeightDecay, bool AmsGrad, bool Maximize);

    /// <summary>TorchSharp's Adam update for one parameter, its temporaries freed before the next parameter.</summary>
    private static void UpdateWithTorchOperations(Parameter param, Tensor gradient, State state, in Settings c)
    {
        using var scope = NewDisposeScope();
        var grad = c.Maximize ? -gradient : gradient;
        var biasCorrection1 = 1 - Math.Pow(c.Beta1, state.step);
        var biasCorrection2 = 1 - Math.Pow(c.Beta2, state.step);
        if (c.WeightDecay != 0) grad = grad.add(param, alpha: c.WeightDecay);
        state.exp_avg.mul_(c.Beta1).add_(grad, alpha: 1 - c.Beta1);
        state.exp_avg_sq.mul_(c.Beta2).addcmul_(grad, grad.conj(), value: 1 - c.Beta2);
        Tensor second = state.exp_avg_sq;
        if (c.AmsGrad)
        {
            state.max_exp_avg_sq!.copy_(maximum(state.max_exp_avg_sq, state.exp_avg_sq));
            second = state.max_exp_avg_sq;
        }
        var denominator = (second.sqrt() / Math.Sqrt(biasCorrection2)).add_(c.Eps);
        param.addcdiv_(state.exp_avg, denominator, value: -(c.Lr / biasCorrection1));
    }

    /// <summary>
    /// The single pass, where the parameter, its gradient and its state are dense float32 CPU tensors of one
    /// layout (contiguous or channels-last: an element-wise update does not care which, only that they agree).
    /// </summary>
    private static unsafe bool TryUpdateInOnePass(Parameter param, Tensor grad, State state, in Settings c)
    {
        if (!PointersAvailable.Value) return false;
        if (param.device_type != DeviceType.CPU || param.dtype != ScalarType.Float32) return false;
        if (!SameLayout(param, grad) || !SameLayout(param, state.exp_avg) || !SameLayout(param, state.exp_avg_sq)) return false;
        if (c.AmsGrad && !SameLayout(param, state.max_exp_avg_sq!)) return false;
        if (!IsDense(param)) return false;
        var n = param.numel();
        if (n == 0) return true;

        var biasCorrection1 = 1 - Math.Pow(c.Beta1, state.step);
        var biasCorrection2 = 1 - Math.Pow(c.Beta2, state.step);
        var k = new Coefficients
        {
            // libtorch casts each double scalar to the tensor's type before its kernel runs; so does this.
            Beta1 = (float)c.Beta1, OneMinusBeta1 = (float)(1 - c.Beta1), Beta2 = (float)c.Beta2, OneMinusBeta2 = (float)(1 - c.Beta2),
            WeightDecay = (float)c.WeightDecay, Eps = (float)c.Eps, SqrtBiasCorrection2 = (float)Math.Sqrt(biasCorrection2),
            NegativeStepSize = (float)-(c.Lr / biasCorrection1), Maximize = c.Maximize, HasWeightDecay = c.WeightDecay != 0,
            AmsGrad = c.AmsGrad,
        };
        var buffers = new Buffers
        {
            Param = (float*)DataPointer(param), Grad = (float*)DataPointer(grad), ExpAvg = (float*)DataPointer(state.exp_avg),
            ExpAvgSq = (float*)DataPointer(state.exp_avg_sq), MaxExpAvgSq = c.AmsGrad ? (float*)DataPointer(state.max_exp_avg_sq!) : null,
        };
        var threads = Math.Max(1, Math.Min(get_num_threads(), Environment.ProcessorCount));
        if (n < ParallelThreshold || threads == 1)
        {
            Update(buffers, k, 0, n);
            return true;
        }
        var chunks = (n + ChunkElements - 1) / ChunkElements;
        Parallel.For(0L, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, chunk =>
        {
            var start = chunk * ChunkElements;
            Update(buffers, k, start, Math.Min(n, start + ChunkElements));
        });
        return true;
    }

    private unsafe struct Buffers
    {
        public float* Param, Grad, ExpAvg, ExpAvgSq, MaxExpAvgSq;
    }

    private struct Coefficients
    {
        public float Beta1, OneMinusBeta1, Beta2, OneMinusBeta2, WeightDecay, Eps, SqrtBiasCorrection2, NegativeStepSize;
        public bool Maximize, HasWeightDecay, AmsGrad;
    }

    /// <summary>Elements [start, end) of one parameter: vectors of <see cref="Vector{T}.Count"/>, then the tail one by one.</summary>
    /// <remarks>Fully optimised from its first call: .NET's first tier compiles vector code without inlining its operations.</remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Update(Buffers b, Coefficients k, long start, long end)
    {
        var i = start;
        if (Vector.IsHardwareAccelerated)
        {
            var width = Vector<float>.Count;
            var beta1 = new Vector<float>(k.Beta1);
            var oneMinusBeta1 = new Vector<float>(k.OneMinusBeta1);
            var beta2 = new Vector<float>(k.Beta2);
            var oneMinusBeta2 = new Vector<float>(k.OneMinusBeta2);
            var weightDecay = new Vector<float>(k.WeightDecay);
            var eps = new Vector<float>(k.Eps);
            var sqrtBiasCorrection2 = new Vector<float>(k.SqrtBiasCorrection2);
            var negativeStepSize = new Vector<float>(k.NegativeStepSize);
            for (; i <= end - width; i += width)
            {
                var p = Vector.Load(b.Param + i);
                var g = Vector.Load(b.Grad + i);
                if (k.Maximize) g = -g;
                if (k.HasWeightDecay) g += weightDecay * p;
                var m = Vector.Load(b.ExpAvg + i) * beta1 + oneMinusBeta1 * g;
                var v = Vector.Load(b.ExpAvgSq + i) * beta2 + oneMinusBeta2 * (g * g);
                m.Store(b.ExpAvg + i);
                v.Store(b.ExpAvgSq + i);
                if (k.AmsGrad)
                {
                    v = Vector.Max(Vector.Load(b.MaxExpAvgSq + i), v);
                    v.Store(b.MaxExpAvgSq + i);
                }
                var denominator = Vector.SquareRoot(v) / sqrtBiasCorrection2 + eps;
                (p + negativeStepSize * (m / denominator)).Store(b.Param + i);
            }
        }
        for (; i < end; i++)
        {
            var p = b.Param[i];
            var g = b.Grad[i];
            if (k.Maximize) g = -g;
            if (k.HasWeightDecay) g += k.WeightDecay * p;
            var m = b.ExpAvg[i] * k.Beta1 + k.OneMinusBeta1 * g;
            var v = b.ExpAvgSq[i] * k.Beta2 + k.OneMinusBeta2 * (g * g);
            b.ExpAvg[i] = m;
            b.ExpAvgSq[i] = v;
            if (k.AmsGrad)
            {
                v = MathF.Max(b.MaxExpAvgSq[i], v);
                b.MaxExpAvgSq[i] = v;
            }
            var denominator = MathF.Sqrt(v) / k.SqrtBiasCorrection2 + k.Eps;
            b.Param[i] = p + k.NegativeStepSize * (m / denominator);
        }
    }

    private static bool SameLayout(Tensor a, Tensor b) =>
        b.device_type == a.device_type && b.dtype == a.dtype && a.shape.AsSpan().SequenceEqual(b.shape) && a.stride().AsSpan().SequenceEqual(b.stride());

    /// <summary>
    /// Every element in one block with no gaps or overlaps, in any order of dimensions (contiguous, channels-last
    /// or another permutation): sorted by stride, each dimension's stride is the product of the sizes before it.
    /// </summary>
    internal static bool IsDense(Tensor t)
    {
        var shape = t.shape;
        var strides = t.stride();
        var order = Enumerable.Range(0, shape.Length).Where(d => shape[d] != 1).OrderBy(d => strides[d]).ToArray();
        long expected = 1;
        foreach (var d in order)
        {
            if (strides[d] != expected) return false;
            expected *= shape[d];
        }
        return true;
    }

    /// <summary>Address of a tensor's first element (libtorch's <c>data_ptr()</c>, through TorchSharp's native library).</summary>
    private static IntPtr DataPointer(Tensor t) => THSTensor_data(t.Handle);

    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSTensor_data(IntPtr handle);

    /// <summary>
    /// Whether <see cref="THSTensor_data"/> can be called and points at the tensor's elements; if not (another
    /// TorchSharp build), every update takes TorchSharp's operations.
    /// </summary>
    private static unsafe bool ProbePointers()
    {
        try
        {
            using var scope = NewDisposeScope();
            var t = tensor(new float[] { 1.5f, -2.25f, 3.125f });
            var p = (float*)DataPointer(t);
            return p != null && p[0] == 1.5f && p[1] == -2.25f && p[2] == 3.125f;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or MarshalDirectiveException)
        {
            return false;
        }
    }
}
