namespace MedZoo.Engine.Data.Datasets;

/// <summary>
/// MRBrainS18 (<see href="https://mrbrains18.isi.uu.nl/data/"/>) as the challenge distributes its
/// training data: one folder per subject (1, 4, 5, 7, 14, 070, 148) holding <c>segm.nii.gz</c> and
/// <c>pre/reg_T1.nii.gz</c>, <c>pre/reg_IR.nii.gz</c>, <c>pre/FLAIR.nii.gz</c> — the bias-corrected
/// scans registered to the FLAIR grid (0.958 × 0.958 × 3 mm), the files MedicalZoo reads. Other
/// files in the subject folders (orig/, pre/T1.nii.gz, pre/IR.nii.gz) are left alone. The path may
/// be the training folder, its parent, or MedicalZoo's datasets root (mrbrains_2018/training).
/// <para>
/// Raw labels: 0 background, 1 cortical grey matter, 2 basal ganglia, 3 white matter, 4 white
/// matter lesions, 5 cerebrospinal fluid in the extracerebral space, 6 ventricles, 7 cerebellum,
/// 8 brain stem, 9 infarction, 10 other. The challenge evaluates 1–8 and excludes 9 and 10 from
/// scoring, so both map to background here. <c>mrbrains2018</c> keeps the 9 classes 0–8;
/// <c>mrbrains2018_4</c> is the grey matter / white matter / CSF grouping the challenge prescribes
/// (merge 1+2, 3+4, 5+6), with cerebellum and brain stem — outside that grouping — as background.
/// </para>
/// </summary>
public sealed class MRBrainS2018Dataset(bool fourClasses) : IDatasetDefinition
{
    private static readonly string[] AllModalities = ["T1", "IR", "FLAIR"];
    private static readonly Dictionary<string, string> FileOf = new()
    {
        ["T1"] = "reg_T1",
        ["IR"] = "reg_IR",
        ["FLAIR"] = "FLAIR",
    };

    private static readonly LabelMapping NineClasses = new(
        ["background", "cortical grey matter", "basal ganglia", "white matter", "white matter lesions",
         "cerebrospinal fluid in the extracerebral space", "ventricles", "cerebellum", "brain stem"],
        new Dictionary<long, int>
        {
            [0] = 0, [1] = 1, [2] = 2, [3] = 3, [4] = 4, [5] = 5, [6] = 6, [7] = 7, [8] = 8,
            [9] = 0, [10] = 0, // infarction, other: excluded from the challenge's evaluation
        });

    private static readonly LabelMapping FourClasses = new(
        ["background", "grey matter", "white matter", "cerebrospinal fluid"],
        new Dictionary<long, int>
        {
            [0] = 0, [1] = 1, [2] = 1, [3] = 2, [4] = 2, [5] = 3, [6] = 3,
            [7] = 0, [8] = 0, [9] = 0, [10] = 0,
        });

    /// <summary>True for the 4-class grouping.</summary>
    public bool IsFourClass { get; } = fourClasses;

    public string Name => IsFourClass ? "mrbrains2018_4" : "mrbrains2018";

    public IReadOnlyList<string> Aliases => IsFourClass ? ["mrbrains4", "mrbrains2018-4"] : ["mrbrains9", "mrbrains2018_9", "mrbrains2018-9"];

    public string Description => IsFourClass
        ? "MRBrainS18 (T1, IR, FLAIR; <subject>/pre/reg_T1|reg_IR|FLAIR.nii.gz, segm.nii.gz) grouped: background, grey matter, white matter, CSF"
        : "MRBrainS18 (T1, IR, FLAIR; <subject>/pre/reg_T1|reg_IR|FLAIR.nii.gz, segm.nii.gz): background + 8 structures";

    public bool RequiresPath => true;

    public DatasetScan Scan(DatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var mapping = IsFourClass ? FourClasses : NineClasses;
        var modalities = DatasetLayout.SelectModalities(Name, AllModalities, options.Modalities);
        const string expected = "one folder per subject with segm.nii.gz and pre/reg_T1.nii.gz, pre/reg_IR.nii.gz, pre/FLAIR.nii.gz (in the folder, in training/ below it, or in mrbrains_2018/training)";
        string[] candidates = ["", "training", "mrbrains_2018/training"];
        var root = options.Path is null ? null : DatasetLayout.ResolveFolder(options.Path, d => SubjectFolders(d).Any(), candidates);
        if (root is null)
            return new DatasetScan(Name, null, modalities, mapping, [], [DatasetLayout.WrongFolder(Name, options.Path, expected, candidates)], []);

        var folders = SubjectFolders(root).Order(DatasetLayout.NaturalOrder).ToArray();
        var anyLabel = folders.Any(f => Label(f) is not null);
        var errors = new List<string>();
        var subjects = new List<SubjectSource>();
        foreach (var folder in folders)
        {
            var id = Path.GetFileName(folder);
            var ok = true;
            var images = new List<ModalityFile>();
            foreach (var m in modalities)
            {
                var file = DatasetLayout.FindWithExtensions(Path.Combine(folder, "pre"), FileOf[m], ".nii.gz", ".nii");
                if (file is null)
                {
                    errors.Add($"subject '{id}': modality '{m}' file '{Path.Combine(folder, "pre", FileOf[m] + ".nii.gz")}' is missing");
                    ok = false;
                }
                else images.Add(new ModalityFile(m, file));
            }
            var label = Label(folder);
            if (anyLabel && label is null)
            {
                errors.Add($"subject '{id}': label file '{Path.Combine(folder, "segm.nii.gz")}' is missing");
                ok = false;
            }
            if (ok) subjects.Add(new SubjectSource(id, images, label, null, subjects.Count));
        }
        return new DatasetScan(Name, root, modalities, mapping, subjects, errors, []);
    }

    public RawSubject Load(DatasetScan scan, SubjectSource source, IVolumeReader reader, DatasetOptions options) =>
        DatasetLayout.LoadFromFiles(source, scan.Modalities, scan.Mapping, reader);

    private static string? Label(string folder) => DatasetLayout.FindWithExtensions(folder, "segm", ".nii.gz", ".nii");

    // A subject folder holds a pre/ folder or a segm file; anything else (e.g. MedicalZoo's generated/) is not a subject.
    private static IEnumerable<string> SubjectFolders(string root) =>
        Directory.EnumerateDirectories(root).Where(d => !Path.GetFileName(d).StartsWith('.') &&
            (Directory.Exists(Path.Combine(d, "pre")) || Label(d) is not null));
}
