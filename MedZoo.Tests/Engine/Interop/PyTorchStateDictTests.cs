using MedZoo.Engine.Interop;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Training;
using MedZoo.Engine.Checkpoints;
using MedZoo.Tests.Engine.Training;
using MedZoo.Tests.TestSupport;
using TorchSharp;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Interop;

/// <summary>
/// PyTorch checkpoints both ways against MedicalZoo's own classes (benchmarks/reference_models.py under
/// Debian's torch): MedZoo's export loads with load_state_dict(strict=True) and computes MedZoo's
/// outputs; MedicalZoo's save_checkpoint files import, predict as MedicalZoo does, and resume training.
/// </summary>
public class PyTorchStateDictTests
{
    private const double Tolerance = 1e-4;

    // (model, input channels, classes, cube size): every network that moves both ways.
    public static TheoryData<string, int, int, int> Supported => new()
    {
        { "UNET3D", 2, 3, 32 },
        { "VNET", 2, 3, 32 },
        { "VNET2", 1, 4, 16 },
    };

    [Theory]
    [MemberData(nameof(Supported))]
    public void Write_ZooNetwork_MedicalZooClassLoadsStrictlyAndComputesTheSameLogits(string model, int inChannels, int classes, int size)
    {
        using var dir = TestPaths.NewTempFolder();
        using var scope = NewDisposeScope();
        manual_seed(5);
        using var network = ModelZoo.Create(model, inChannels, classes);
        PyTorchReference.RandomizeStatistics(network, 6);
        network.eval();
        var input = randn([1, inChannels, size, size, size]);
        Tensor expected;
        using (no_grad()) expected = network.forward(input);
        using (var file = File.Create(dir.File("state.pt"))) PyTorchStateDict.Write(network, model, file);
        PyTorchReference.SaveInput(dir.File("input.pt"), input);

        PyTorchReference.Reference("forward", model, $"{inChannels}", $"{classes}", dir.File("state.pt"), dir.File("input.pt"), dir.File("output.pt"));

        var actual = PyTorchReference.LoadOutput(dir.File("output.pt"));
        Assert.InRange(PyTorchReference.MaxDifference(actual, expected), 0, Tolerance);
    }

    [Theory]
    [MemberData(nameof(Supported))]
    public void Import_MedicalZooSaveCheckpoint_PredictsWhatMedicalZooPredicts(string model, int inChannels, int classes, int size)
    {
        using var dir = TestPaths.NewTempFolder();
        using var scope = NewDisposeScope();
        manual_seed(7);
        var input = randn([1, inChannels, size, size, size]);
        PyTorchReference.SaveInput(dir.File("input.pt"), input);
        PyTorchReference.Reference("checkpoint", model, $"{inChannels}", $"{classes}", "3", "7", dir.File("net_BEST.pth"), dir.File("input.pt"), dir.File("output.pt"));

        var result = ModelInterop.Import(dir.File("net_BEST.pth"),
            new ImportOptions { Model = model.ToLowerInvariant(), InChannels = inChannels, Classes = classes, PatchSize = [size, size, size] },
            dir.File("imported.ckpt"));

        Assert.Equal(7, result.Source.Epoch);
        Assert.True(result.Source.HadOptimizerState);
        var checkpoint = Checkpoint.Read(dir.File("imported.ckpt"));
        Assert.Equal((model, "import", 7), (checkpoint.Header.Model.Name, checkpoint.Header.Kind, checkpoint.Header.Epoch));
        using var network = ModelZoo.Create(model, inChannels, classes);
        checkpoint.LoadModel(network);
        network.eval();
        Tensor actual;
        using (no_grad()) actual = network.forward(input);
        var expected = PyTorchReference.LoadOutput(dir.File("output.pt"));
        Assert.InRange(PyTorchReference.MaxDifference(actual, expected), 0, Tolerance);
    }

    [Fact]
    public void Import_ThenTrainResume_ContinuesAfterTheSavedEpoch()
    {
        using var dir = TestPaths.NewTempFolder();
        using (var scope = NewDisposeScope())
        {
            PyTorchReference.SaveInput(dir.File("input.pt"), randn([1, 1, 16, 16, 16]));
            PyTorchReference.Reference("checkpoint", "VNET2", "1", "2", "4", "2", dir.File("net_last_epoch.pth"), dir.File("input.pt"), dir.File("output.pt"));
        }
        ModelInterop.Import(dir.File("net_last_epoch.pth"),
            new ImportOptions { Model = "VNET2", InChannels = 1, Classes = 2, PatchSize = [16, 16, 16], Optimizer = OptimizerKind.Adam },
            dir.File("imported.ckpt"));
        var trainer = new Trainer((options, device, _) =>
        {
            var model = ModelZoo.Create("VNET2", 1, 2);
            return new TrainingComponents
            {
                Model = model,
                ModelSpec = new CheckpointModel { Name = "VNET2", InChannels = 1, Classes = 2, ParameterCount = ModelZoo.CountParameters(model) },
                Loss = MedZoo.Engine.Losses.LossFactory.Create(options.Loss, options.LossOptions),
                Data = new BlobData(options.Seed, steps: 1, patch: 16, validation: 1),
            };
        });
        var options = TestTrainers.Options(epochs: 3);
        options.Sampling.PatchSize = [16, 16, 16];
        options.Resume = dir.File("imported.ckpt");
        using var control = new TrainingControl();
        var observer = new RecordingObserver();

        var result = trainer.Run(options, observer, control, new FileCheckpointStore(dir.File("runs")), "resumed");

        Assert.Equal(RunOutcome.Completed, result.Outcome);
        Assert.Equal(3, observer.Of<RunStarted>().Single().StartEpoch);
        var step = Assert.Single(observer.Of<StepCompleted>());
        Assert.Equal(3, step.Epoch);
        Assert.True(double.IsFinite(step.Loss));
    }

    [Fact]
    public void Import_WrongClassCount_NamesTheTensorThatDoesNotFit()
    {
        using var dir = TestPaths.NewTempFolder();
        using (var network = ModelZoo.Create("VNET2", 1, 2))
        using (var file = File.Create(dir.File("state.pt")))
            PyTorchStateDict.Write(network, "VNET2", file);

        var e = Assert.Throws<InvalidDataException>(() => ModelInterop.Import(dir.File("state.pt"),
            new ImportOptions { Model = "VNET2", InChannels = 1, Classes = 3, PatchSize = [16, 16, 16] }, dir.File("out.ckpt")));

        Assert.Contains("'out_tr.conv1.weight' has shape [2, 32, 5, 5, 5], the network expects [3, 32, 5, 5, 5]", e.Message);
        Assert.False(File.Exists(dir.File("out.ckpt")));
    }

    [Fact]
    public void Import_OtherNetworksWeights_ListsMissingAndUnexpectedKeys()
    {
        using var dir = TestPaths.NewTempFolder();
        using (var network = ModelZoo.Create("VNET2", 1, 2))
        using (var file = File.Create(dir.File("vnet2.pt")))
            PyTorchStateDict.Write(network, "VNET2", file);

        var e = Assert.Throws<InvalidDataException>(() => ModelInterop.Import(dir.File("vnet2.pt"),
            new ImportOptions { Model = "UNET3D", InChannels = 1, Classes = 2, PatchSize = [32, 32, 32] }, dir.File("out.ckpt")));

        Assert.Contains("does not hold the weights of UNET3D: missing 'conv3d_c1_1.weight', 'conv3d_c1_2.weight'", e.Message);
        Assert.Contains("; unexpected 'down_tr128.bn1.bias'", e.Message);
        Assert.Contains("more", e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 0x02, 0x8a, 0x0a }, "legacy format")]
    [InlineData(new byte[] { (byte)'n', (byte)'o', (byte)'p', (byte)'e' }, "is not a PyTorch checkpoint (torch.save writes a zip archive)")]
    [InlineData(new byte[] { (byte)'P', (byte)'K', 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, "is not a PyTorch checkpoint")]
    public void Import_NotAPyTorchFile_SaysWhatItIs(byte[] content, string expected)
    {
        using var dir = TestPaths.NewTempFolder();
        File.WriteAllBytes(dir.File("bad.pth"), content);

        var e = Assert.Throws<InvalidDataException>(() => ModelInterop.Import(dir.File("bad.pth"),
            new ImportOptions { Model = "VNET2", InChannels = 1, Classes = 2 }, dir.File("out.ckpt")));

        Assert.Contains("checkpoint 'bad.pth'", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("HIGHRESNET")]
    [InlineData("RESNET3DVAE")]
    [InlineData("DENSENET1")]
    public void Write_NetworkWhoseForwardDiffersFromMedicalZoo_IsRefused(string model)
    {
        using var network = ModelZoo.Create(model, 2, 2, model == "RESNET3DVAE" ? new ModelOptions { InputSize = [32, 32, 32] } : null);

        var e = Assert.Throws<NotSupportedException>(() => PyTorchStateDict.Write(network, model, new MemoryStream()));

        Assert.Contains($"{model} is not one of them", e.Message);
    }

    [Fact]
    public void ImportOptions_Invalid_NameTheField()
    {
        Assert.Contains("Model: 'HIGHRESNET' cannot be imported", Assert.Throws<ArgumentException>(() => new ImportOptions { Model = "HIGHRESNET", InChannels = 1, Classes = 2 }.Validate()).Message);
        Assert.Contains("Classes: must be ≥ 2", Assert.Throws<ArgumentException>(() => new ImportOptions { Model = "VNET", InChannels = 1, Classes = 1 }.Validate()).Message);
        Assert.Contains("PatchSize", Assert.Throws<ArgumentException>(() => new ImportOptions { Model = "VNET", InChannels = 1, Classes = 2, PatchSize = [16, 16] }.Validate()).Message);
        Assert.Contains("unknown normalization 'zz'", Assert.Throws<ArgumentException>(() => new ImportOptions { Model = "VNET", InChannels = 1, Classes = 2, Normalization = "zz" }.Validate()).Message);
    }
}
