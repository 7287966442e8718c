using MedZoo.Engine;
using MedZoo.Engine.Training;
using MedZoo.Engine.Training.Optimizers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using SinglePassAdam = MedZoo.Engine.Training.Optimizers.Adam;

namespace MedZoo.Tests.Engine.Training;

/// <summary>
/// MedZoo's single-pass Adam against TorchSharp's: the same parameters after several steps, with every
/// option, on both of its paths (the single pass and TorchSharp's operations), and state dictionaries that
/// load both ways.
/// </summary>
public class SinglePassAdamTests
{
    /// <summary>Parameters of several sizes: a 5-D conv weight, vectors, one above the threading threshold whose length is no multiple of any vector width.</summary>
    private static List<Parameter> MakeParameters(long seed, ScalarType dtype = ScalarType.Float32)
    {
        var g = new Generator((ulong)seed);
        return
        [
            new Parameter(randn([8, 4, 3, 3, 3], dtype: dtype, generator: g)),
            new Parameter(randn([8], dtype: dtype, generator: g)),
            new Parameter(randn([3], dtype: dtype, generator: g)),
            new Parameter(randn([300_007], dtype: dtype, generator: g)),
            new Parameter(randn([1], dtype: dtype, generator: g)),
        ];
    }

    /// <summary>Gives every parameter a gradient drawn from <paramref name="g"/> (the same draws for both optimizers).</summary>
    private static void SetGradients(IReadOnlyList<Parameter> parameters, Generator g)
    {
        foreach (var p in parameters)
        {
            var grad = p.grad;
            var fresh = randn(p.shape, dtype: p.dtype, generator: g);
            if (grad is null) p.grad = fresh;
            else
            {
                grad.copy_(fresh);
                grad.Dispose();
                fresh.Dispose();
            }
        }
    }

    private static (List<Parameter> Ours, List<Parameter> Theirs, SinglePassAdam A, TorchSharp.Modules.Adam B) Pair(
        double lr, double weightDecay, bool amsgrad, bool maximize, ScalarType dtype = ScalarType.Float32)
    {
        var ours = MakeParameters(7, dtype);
        var theirs = MakeParameters(7, dtype);
        var a = new SinglePassAdam(ours, lr, weight_decay: weightDecay, amsgrad: amsgrad, maximize: maximize);
        var b = new TorchSharp.Modules.Adam(theirs, lr, weight_decay: weightDecay, amsgrad: amsgrad, maximize: maximize);
        return (ours, theirs, a, b);
    }

    private static void StepBoth(List<Parameter> ours, List<Parameter> theirs, SinglePassAdam a, TorchSharp.Modules.Adam b, int steps, ulong seed)
    {
        var ga = new Generator(seed);
        var gb = new Generator(seed);
        for (var i = 0; i < steps; i++)
        {
            using var scope = NewDisposeScope();
            SetGradients(ours, ga);
            SetGradients(theirs, gb);
            a.step();
            b.step();
        }
    }

    private static void AssertSame(List<Parameter> ours, List<Parameter> theirs, string what)
    {
        for (var i = 0; i < ours.Count; i++)
        {
            using var scope = NewDisposeScope();
            var diff = (ours[i] - theirs[i]).abs().max().ToDouble();
            var moved = theirs[i].abs().max().ToDouble();
            Assert.True(ours[i].allclose(theirs[i], rtol: 1e-5, atol: 1e-6),
                $"{what}: parameter {i} ({string.Join("×", ours[i].shape)}) differs from TorchSharp's Adam by up to {diff:E2} (largest value {moved:E2})");
        }
    }

    [Theory]
    [InlineData(0.0, false, false)]
    [InlineData(1e-2, false, false)]
    [InlineData(0.0, true, false)]
    [InlineData(0.0, false, true)]
    [InlineData(1e-2, true, true)]
    public void SinglePass_MatchesTorchSharpAdam_OverSixSteps(double weightDecay, bool amsgrad, bool maximize)
    {
        var (ours, theirs, a, b) = Pair(1e-2, weightDecay, amsgrad, maximize);
        using (a)
        using (b)
        {
            StepBoth(ours, theirs, a, b, 6, 11);
            AssertSame(ours, theirs, $"weight decay {weightDecay}, amsgrad {amsgrad}, maximize {maximize}");
            // Every parameter took the single pass: float32, on the CPU, dense, state of the same layout.
            Assert.Equal(6 * ours.Count, a.FusedUpdates);
            Assert.Equal(0, a.FallbackUpdates);
        }
    }

    [Fact]
    public void Float64Parameters_TakeTorchSharpOperations_AndStillMatch()
    {
        var (ours, theirs, a, b) = Pair(1e-2, 1e-3, true, false, ScalarType.Float64);
        using (a)
        using (b)
        {
            StepBoth(ours, theirs, a, b, 4, 5);
            Assert.Equal(0, a.FusedUpdates);
            Assert.Equal(4 * ours.Count, a.FallbackUpdates);
            for (var i = 0; i < ours.Count; i++)
                Assert.True(ours[i].allclose(theirs[i], rtol: 1e-12, atol: 1e-14), $"float64 parameter {i} differs from TorchSharp's Adam");
        }
    }

    [Fact]
    public void ParameterWithoutGradient_IsSkipped()
    {
        var p = new Parameter(ones(5));
        var q = new Parameter(ones(5));
        using var a = new SinglePassAdam([p, q], 0.1);
        q.grad = full(5, 2f);
        a.step();
        Assert.True(p.equal(ones(5)).all().item<bool>(), "a parameter without a gradient must not move");
        Assert.False(q.equal(ones(5)).all().item<bool>(), "a parameter with a gradient must move");
        Assert.Equal(1, a.FusedUpdates);
    }

    [Fact]
    public void TransposedParameter_IsDense_AndMatches()
    {
        // A permuted parameter (as a channels-last weight is) is one dense block: the element-wise update applies.
        var ours = new List<Parameter> { new(randn([6, 5], generator: new Generator(3)).t()) };
        var theirs = new List<Parameter> { new(randn([6, 5], generator: new Generator(3)).t()) };
        Assert.False(ours[0].is_contiguous());
        using var a = new SinglePassAdam(ours, 1e-2);
        using var b = new TorchSharp.Modules.Adam(theirs, 1e-2);
        // Gradients that are contiguous while the parameter is not: layouts differ, so TorchSharp's operations run.
        StepBoth(ours, theirs, a, b, 3, 9);
        AssertSame(ours, theirs, "transposed parameter");
        Assert.Equal(3, a.FusedUpdates + a.FallbackUpdates);
    }

    [Fact]
    public void IsDense_TellsBlocksFromStridedViews()
    {
        using var scope = NewDisposeScope();
        var x = randn([4, 6, 2, 3, 5]);
        Assert.True(SinglePassAdam.IsDense(x));
        Assert.True(SinglePassAdam.IsDense(x.permute(0, 2, 3, 4, 1)));
        Assert.True(SinglePassAdam.IsDense(x.narrow(0, 1, 1)));
        Assert.False(SinglePassAdam.IsDense(x.narrow(1, 0, 3)));
        Assert.False(SinglePassAdam.IsDense(randn([4, 6]).slice(1, 0, 6, 2)));
        Assert.True(SinglePassAdam.IsDense(randn([1, 1, 1])));
    }

    [Fact]
    public void StateDictionaries_LoadBothWays_AndTrainingContinuesTheSame()
    {
        var (ours, theirs, a, b) = Pair(1e-2, 1e-3, false, false);
        using (a)
        using (b)
        {
            StepBoth(ours, theirs, a, b, 3, 21);
            var folder = Directory.CreateTempSubdirectory("medzoo-adam-");
            try
            {
                var ourFile = Path.Combine(folder.FullName, "ours.bin");
                var theirFile = Path.Combine(folder.FullName, "theirs.bin");
                a.save_state_dict(ourFile);
                b.save_state_dict(theirFile);

                // Cross over: TorchSharp's Adam continues from our state, ours from TorchSharp's.
                var ours2 = ours.Select(p => new Parameter(p.detach().clone())).ToList();
                var theirs2 = theirs.Select(p => new Parameter(p.detach().clone())).ToList();
                using var fromOurs = new TorchSharp.Modules.Adam(ours2, 0.5);
                using var fromTheirs = new SinglePassAdam(theirs2, 0.5);
                fromOurs.load_state_dict(ourFile);
                fromTheirs.load_state_dict(theirFile);
                StepBoth(theirs2, ours2, fromTheirs, fromOurs, 3, 22);
                StepBoth(ours, theirs, a, b, 3, 22);
                AssertSame(theirs2, theirs, "our Adam resumed from TorchSharp's state");
                AssertSame(ours2, ours, "TorchSharp's Adam resumed from our state");
            }
            finally
            {
                folder.Delete(true);
            }
        }
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("medzoo", false)]
    [InlineData(" TorchSharp ", true)]
    public void Choice_ParsesTheEnvironmentVariable(string? value, bool torchSharp) => Assert.Equal(torchSharp, AdamChoice.Parse(value));

    [Fact]
    public void Choice_UnknownValue_NamesTheVariable()
    {
        var e = Assert.Throws<InvalidOptionException>(() => AdamChoice.Parse("adamw"));
        Assert.Contains("MEDZOO_ADAM", e.Message);
        Assert.Contains("'adamw'", e.Message);
    }

    [Fact]
    public void Trainer_CreatesTheSinglePassAdam_ForAdam()
    {
        using var net = nn.Linear(3, 2);
        using var optimizer = Trainer.CreateOptimizer(new TrainerOptions { Optimizer = OptimizerKind.Adam, LearningRate = 1e-3 }, net.parameters());
        Assert.IsType<SinglePassAdam>(optimizer);
        Assert.Equal("Adam", optimizer.GetType().Name);
    }
}
