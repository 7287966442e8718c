using System.Text;
using MedZoo.Engine.Data;
using MedZoo.Engine.Data.Datasets;
using MedZoo.Engine.IO;

namespace MedZoo.Reliability.Fuzzing;

/// <summary>
/// <c>dataset.json</c> of the Medical Segmentation Decathlon and nnU-Net layouts through the dataset definitions'
/// <c>Scan</c> (what <c>medzoo dataset check</c>, the Datasets page and training call first), in a folder with real
/// images and labels. The contract: a scan that lists its problems (errors naming the file), or a
/// <see cref="DatasetException"/>; any other exception is a crash.
/// </summary>
public sealed class DatasetJsonTarget : FuzzTarget
{
    private readonly List<FuzzInput> _seeds = [];
    private readonly string _decathlonRoot;
    private readonly string _nnunetRoot;

    public DatasetJsonTarget(string workDirectory) : base(workDirectory)
    {
        _decathlonRoot = Path.Combine(workDirectory, "Task01_Fuzz");
        _nnunetRoot = Path.Combine(workDirectory, "Dataset001_Fuzz");
        var image = Volume.FromArray(new float[4 * 4 * 4], [4, 4, 4]);
        var label = Volume.FromArray(new byte[4 * 4 * 4], [4, 4, 4]);
        foreach (var root in new[] { _decathlonRoot, _nnunetRoot })
        {
            Directory.CreateDirectory(Path.Combine(root, "imagesTr"));
            Directory.CreateDirectory(Path.Combine(root, "labelsTr"));
        }
        foreach (var c in new[] { "case_001", "case_002" })
        {
            VolumeIO.Write(image, Path.Combine(_decathlonRoot, "imagesTr", c + ".nii.gz"));
            VolumeIO.Write(label, Path.Combine(_decathlonRoot, "labelsTr", c + ".nii.gz"));
            VolumeIO.Write(image, Path.Combine(_nnunetRoot, "imagesTr", c + "_0000.nii.gz"));
            VolumeIO.Write(label, Path.Combine(_nnunetRoot, "labelsTr", c + ".nii.gz"));
        }
        const string decathlon = """
            {"name": "Fuzz", "modality": {"0": "T1"}, "labels": {"0": "background", "1": "tumour"}, "numTraining": 2,
             "training": [{"image": "./imagesTr/case_001.nii.gz", "label": "./labelsTr/case_001.nii.gz"},
                          {"image": "./imagesTr/case_002.nii.gz", "label": "./labelsTr/case_002.nii.gz"}], "test": []}
            """;
        const string nnunet = """
            {"channel_names": {"0": "T1"}, "labels": {"background": 0, "tumour": 1}, "numTraining": 2, "file_ending": ".nii.gz"}
            """;
        _seeds.Add(FuzzInput.Of("decathlon", Encoding.UTF8.GetBytes(decathlon)));
        _seeds.Add(FuzzInput.Of("nnunet", Encoding.UTF8.GetBytes(nnunet)));
        foreach (var s in _seeds)
        {
            var scan = Scan(s);
            if (scan.Errors.Count > 0) throw new InvalidOperationException($"seed {s.MainName} does not scan: {string.Join("; ", scan.Errors)}");
        }
    }

    public override string Kind => "datasetjson";

    public override string Description => "dataset.json of the Decathlon and nnU-Net layouts (with real images and labels) through DecathlonDataset.Scan and NnUNetDataset.Scan";

    public override IReadOnlyList<FuzzInput> Seeds => _seeds;

    public override FuzzInput Mutate(FuzzInput seed, Mutator mutator) =>
        seed.With(0, Encoding.UTF8.GetBytes(mutator.MutateJson(Encoding.UTF8.GetString(seed.Files[0].Value))));

    private DatasetScan Scan(FuzzInput input)
    {
        var decathlon = input.MainName == "decathlon";
        var root = decathlon ? _decathlonRoot : _nnunetRoot;
        File.WriteAllBytes(Path.Combine(root, "dataset.json"), input.Files[0].Value);
        IDatasetDefinition definition = decathlon ? new DecathlonDataset() : new NnUNetDataset();
        return definition.Scan(new DatasetOptions { Name = definition.Name, Path = root });
    }

    public override FuzzVerdict Run(FuzzInput input, string folder)
    {
        try
        {
            var scan = Scan(input);
            if (scan.Errors.Count == 0) return FuzzVerdict.Accepted;
            var first = scan.Errors[0];
            return new FuzzVerdict(first.Contains("dataset.json", StringComparison.Ordinal) || first.Contains("subject", StringComparison.Ordinal) ? FuzzOutcome.Refused : FuzzOutcome.RefusedUnclear, first);
        }
        catch (DatasetException e)
        {
            return new FuzzVerdict(FuzzOutcome.Refused, e.Message);
        }
    }
}
