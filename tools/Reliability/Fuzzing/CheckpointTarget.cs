using System.IO.Compression;
using System.Text;
using MedZoo.Engine.Devices;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Checkpoints;
using static TorchSharp.torch;

namespace MedZoo.Reliability.Fuzzing;

/// <summary>
/// Checkpoints (zip: checkpoint.json, model.bin, optimizer.bin, rng.bin) through <see cref="Checkpoint.Read(Stream)"/>
/// and, when read, <see cref="Checkpoint.LoadModel"/> into the seed's network (as a resume does). Mutated: the zip's
/// bytes, or checkpoint.json (as JSON) or model.bin inside a well-formed zip. The contract of Read: an
/// <see cref="InvalidDataException"/> with a message. LoadModel wraps TorchSharp's refusals (ArgumentException,
/// BinaryReader's EndOfStreamException and FormatException, ...) in an InvalidDataException naming the checkpoint; anything
/// else it lets through is counted as unclear.
/// </summary>
public sealed class CheckpointTarget : FuzzTarget
{
    private readonly List<FuzzInput> _seeds = [];
    private readonly CheckpointModel _model = new() { Name = "UNET3D_CICEK", InChannels = 1, Classes = 2, BaseFilters = 2, Depth = 2 };

    public CheckpointTarget(string workDirectory) : base(workDirectory)
    {
        if (TorchRuntime.TryLoad() is { } why) throw new InvalidOperationException(why);
        random.manual_seed(1); // the same seed checkpoint, byte for byte, on every run
        using var model = Build();
        using var optimizer = optim.Adam(model.parameters(), 1e-3);
        var header = new CheckpointHeader
        {
            RunId = "fuzz", Model = _model, ClassNames = ["background", "foreground"], Modalities = ["T1"], PatchSize = [16, 16, 16],
            Dataset = "synthetic", Created = new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero), Epoch = 3, GlobalStep = 12, BestMetric = 0.5, BestEpoch = 2, Seed = 1, Optimizer = "adam",
        };
        using var ms = new MemoryStream();
        Checkpoint.Write(ms, header, model, optimizer);
        _seeds.Add(FuzzInput.Of("last.ckpt", ms.ToArray()));
    }

    public override string Kind => "checkpoint";

    public override string Description => "checkpoints (zip of checkpoint.json, model.bin, optimizer.bin, rng.bin) through Checkpoint.Read, then LoadModel into the seed's network";

    public override IReadOnlyList<FuzzInput> Seeds => _seeds;

    private nn.Module Build() => ModelZoo.Create(_model.Name, _model.InChannels, _model.Classes, new ModelOptions { BaseFilters = _model.BaseFilters, Depth = _model.Depth });

    public override FuzzInput Mutate(FuzzInput seed, Mutator mutator)
    {
        var zip = seed.Files[0].Value;
        var choice = mutator.Random.Next(5);
        if (choice < 2) return seed.With(0, mutator.MutateBytes(zip, 64));
        var entries = new List<(string Name, byte[] Bytes)>();
        using (var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read))
            foreach (var e in archive.Entries)
            {
                using var s = e.Open();
                using var copy = new MemoryStream();
                s.CopyTo(copy);
                entries.Add((e.FullName, copy.ToArray()));
            }
        var target = choice < 4 ? "checkpoint.json" : "model.bin";
        entries = entries.Select(e => e.Name != target ? e
            : (e.Name, target == "checkpoint.json" ? Encoding.UTF8.GetBytes(mutator.MutateJson(Encoding.UTF8.GetString(e.Bytes))) : mutator.MutateBytes(e.Bytes, 256))).ToList();
        if (mutator.Random.Next(10) == 0) entries.RemoveAt(mutator.Random.Next(entries.Count));
        using var output = new MemoryStream();
        using (var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, bytes) in entries)
            {
                using var s = archive.CreateEntry(name, CompressionLevel.Fastest).Open();
                s.Write(bytes);
            }
        return seed.With(0, output.ToArray());
    }

    public override FuzzVerdict Run(FuzzInput input, string folder)
    {
        Checkpoint checkpoint;
        try
        {
            checkpoint = Checkpoint.Read(new MemoryStream(input.Files[0].Value, writable: false));
        }
        catch (InvalidDataException e)
        {
            return new FuzzVerdict(e.Message.Length > 10 ? FuzzOutcome.Refused : FuzzOutcome.RefusedUnclear, e.Message);
        }
        using var scope = NewDisposeScope();
        using var model = Build();
        try
        {
            checkpoint.LoadModel(model);
            return FuzzVerdict.Accepted;
        }
        catch (InvalidDataException e) when (e.Message.Contains("checkpoint", StringComparison.Ordinal))
        {
            return new FuzzVerdict(FuzzOutcome.Refused, $"LoadModel: {e.Message}");
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidOperationException or InvalidDataException or FormatException)
        {
            return new FuzzVerdict(FuzzOutcome.RefusedUnclear, $"LoadModel: {e.GetType().Name}: {e.Message}");
        }
    }
}
