namespace MedZoo.Engine.Data.Datasets;

/// <summary>
/// BraTS 2018, 2019 and 2020 (<see href="https://www.med.upenn.edu/cbica/brats2020/data.html"/>)
/// as distributed: one folder per subject named by its id, holding <c>&lt;id&gt;_t1.nii.gz</c>,
/// <c>_t1ce</c>, <c>_t2</c>, <c>_flair</c> and (training data) <c>_seg</c>. 2018 and 2019 group
/// subjects in HGG/ and LGG/ (MICCAI_BraTS_2018_Data_Training/HGG/Brats18_2013_10_1/...,
/// MICCAI_BraTS_2019_Data_Training/LGG/BraTS19_.../...); 2020 is flat
/// (MICCAI_BraTS2020_TrainingData/BraTS20_Training_001/BraTS20_Training_001_t1.nii.gz) with the
/// grades in name_mapping.csv. Flat folders load for every year (validation data), and
/// uncompressed .nii files are accepted. CSV and other non-volume files are ignored.
/// Labels 0/1/2/4 → 0..3: background, necrotic and non-enhancing tumour core (NCR/NET),
/// peritumoral oedema (ED), GD-enhancing tumour (ET); BraTS has no label 3, so a 3 is an error.
/// In BraTS 2020 subject 355's segmentation is published as <c>W39_1998.09.19_Segm.nii</c>; a
/// subject folder without <c>_seg</c> whose only other volume is a "*Segm.nii[.gz]" file uses it,
/// with a warning.
/// </summary>
public sealed class BratsDataset : IDatasetDefinition
{
    private static readonly string[] AllModalities = ["t1", "t1ce", "t2", "flair"];
    private static readonly string[] Extensions = [".nii.gz", ".nii"];
    private static readonly LabelMapping Mapping = new(
        ["background", "necrotic and non-enhancing tumour core (NCR/NET)", "peritumoral oedema (ED)", "GD-enhancing tumour (ET)"],
        new Dictionary<long, int> { [0] = 0, [1] = 1, [2] = 2, [4] = 3 });

    /// <param name="year">2018, 2019 or 2020.</param>
    public BratsDataset(int year)
    {
        if (year is not (2018 or 2019 or 2020)) throw new ArgumentOutOfRangeException(nameof(year), year, "BraTS is 2018, 2019 or 2020 here");
        Year = year;
    }

    /// <summary>Challenge year.</summary>
    public int Year { get; }

    public string Name => $"brats{Year}";

    public IReadOnlyList<string> Aliases => [$"brats_{Year}"];

    public string Description =>
        $"BraTS {Year} brain tumours: t1, t1ce, t2, flair (<id>/<id>_t1|_t1ce|_t2|_flair|_seg.nii.gz{(Year < 2020 ? " under HGG/ and LGG/" : "")}); labels 0/1/2/4";

    public bool RequiresPath => true;

    private string[] Candidates => Year switch
    {
        2018 => ["", "MICCAI_BraTS_2018_Data_Training", "brats2018/MICCAI_BraTS_2018_Data_Training"],
        2019 => ["", "MICCAI_BraTS_2019_Data_Training", "brats2019/MICCAI_BraTS_2019_Data_Training"],
        _ => ["", "MICCAI_BraTS2020_TrainingData", "brats2020/MICCAI_BraTS2020_TrainingData", "brats2020/MICCAI_BraTS_2020_Data_Training"],
    };

    public DatasetScan Scan(DatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var modalities = DatasetLayout.SelectModalities(Name, AllModalities, options.Modalities);
        var expected = "one folder per subject <id> with <id>_t1, <id>_t1ce, <id>_t2, <id>_flair and <id>_seg .nii.gz" +
                       (Year < 2020 ? ", inside HGG/ and LGG/" : "");
        var root = options.Path is null ? null : DatasetLayout.ResolveFolder(options.Path, d => SubjectFolders(d).Any(), Candidates);
        if (root is null)
            return new DatasetScan(Name, null, modalities, Mapping, [], [DatasetLayout.WrongFolder(Name, options.Path, expected, Candidates)], []);

        var folders = SubjectFolders(root).OrderBy(f => Path.GetFileName(f.Folder), DatasetLayout.NaturalOrder).ToArray();
        var errors = new List<string>();
        var warnings = new List<string>();
        var found = new List<(string Id, string? Group, ModalityFile[] Images, string? Label, bool Ok)>();
        foreach (var (folder, group) in folders)
        {
            var id = Path.GetFileName(folder);
            var ok = true;
            var expectedNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var suffix in AllModalities.Append("seg"))
                foreach (var e in Extensions) expectedNames.Add($"{id}_{suffix}{e}");
            var volumes = Directory.EnumerateFiles(folder).Select(Path.GetFileName).OfType<string>()
                .Where(f => !DatasetLayout.IsIgnorable(f) && DatasetLayout.IsVolumeFile(f)).ToArray();
            var extra = volumes.Where(f => !expectedNames.Contains(f)).ToList();

            var images = new List<ModalityFile>();
            foreach (var m in modalities)
            {
                var file = DatasetLayout.FindWithExtensions(folder, $"{id}_{m}", Extensions);
                if (file is null)
                {
                    errors.Add($"subject '{id}': modality '{m}' file '{Path.Combine(folder, $"{id}_{m}.nii.gz")}' is missing");
                    ok = false;
                }
                else images.Add(new ModalityFile(m, file));
            }
            var label = DatasetLayout.FindWithExtensions(folder, $"{id}_seg", Extensions);
            if (label is null && extra.Count == 1 && (extra[0].EndsWith("segm.nii", StringComparison.OrdinalIgnoreCase) || extra[0].EndsWith("segm.nii.gz", StringComparison.OrdinalIgnoreCase)))
            {
                label = Path.Combine(folder, extra[0]);
                warnings.Add($"subject '{id}': label file '{label}' used in place of '{id}_seg.nii.gz' (a known misnaming in the published data)");
                extra.Clear();
            }
            foreach (var f in extra)
            {
                errors.Add($"subject '{id}': unexpected file '{Path.Combine(folder, f)}' (expected only {id}_t1, _t1ce, _t2, _flair and _seg .nii.gz)");
                ok = false;
            }
            found.Add((id, group, images.ToArray(), label, ok));
        }
        var anyLabel = found.Any(f => f.Label is not null);
        var subjects = new List<SubjectSource>();
        foreach (var f in found)
        {
            if (anyLabel && f.Label is null)
            {
                errors.Add($"subject '{f.Id}': label file '{Path.Combine(folders.First(x => Path.GetFileName(x.Folder) == f.Id).Folder, $"{f.Id}_seg.nii.gz")}' is missing");
                continue;
            }
            if (f.Ok) subjects.Add(new SubjectSource(f.Id, f.Images, f.Label, f.Group, subjects.Count));
        }
        var duplicate = found.GroupBy(f => f.Id, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        foreach (var d in duplicate) errors.Add($"subject '{d}' appears in more than one of HGG/, LGG/ and the top folder of '{root}'");
        return new DatasetScan(Name, root, modalities, Mapping, subjects, errors, warnings);
    }

    public RawSubject Load(DatasetScan scan, SubjectSource source, IVolumeReader reader, DatasetOptions options) =>
        DatasetLayout.LoadFromFiles(source, scan.Modalities, scan.Mapping, reader);

    // Subject folders: children of HGG/ and LGG/ (grade as group) and children of the root itself
    // that hold a <name>_flair/_t1 volume (flat layouts: 2020, validation data).
    private static IEnumerable<(string Folder, string? Group)> SubjectFolders(string root)
    {
        foreach (var grade in new[] { "HGG", "LGG" })
        {
            var g = Path.Combine(root, grade);
            if (!Directory.Exists(g)) continue;
            foreach (var d in Directory.EnumerateDirectories(g).Where(d => !Path.GetFileName(d).StartsWith('.')))
                yield return (d, grade);
        }
        foreach (var d in Directory.EnumerateDirectories(root))
        {
            var name = Path.GetFileName(d);
            if (name.StartsWith('.') || name is "HGG" or "LGG") continue;
            if (AllModalities.Any(m => DatasetLayout.FindWithExtensions(d, $"{name}_{m}", Extensions) is not null))
                yield return (d, null);
        }
    }
}
