using System.Text.RegularExpressions;

namespace MedZoo.Engine.Data.Datasets;

/// <summary>
/// iSeg-2017 / iSeg-2019 (6-month infant brain MRI, <see href="https://iseg2017.web.unc.edu/"/>,
/// <see href="https://iseg2019.web.unc.edu/"/>) as the challenge distributes it: one folder
/// (iSeg-2017-Training, iSeg-2019-Training; the unlabeled iSeg-2017-Testing / iSeg-2019-Validation
/// folders load too) of Analyze 7.5 pairs <c>subject-N-T1.hdr/.img</c>, <c>subject-N-T2.hdr/.img</c>
/// and <c>subject-N-label.hdr/.img</c>. Labels 0/10/150/250 → 0..3: background, CSF, grey matter,
/// white matter. The path may be that folder, its parent, or MedicalZoo's datasets root
/// (iseg_2017/iSeg-2017-Training). T1, T2 and label are paired by subject number — never by
/// position in a sorted list (MedicalZoo's iSeg-2019 validation paired one subject's T1 with
/// another's T2).
/// </summary>
public sealed partial class ISegDataset : IDatasetDefinition
{
    private static readonly string[] AllModalities = ["T1", "T2"];
    private static readonly LabelMapping Mapping = new(
        ["background", "CSF", "grey matter", "white matter"],
        new Dictionary<long, int> { [0] = 0, [10] = 1, [150] = 2, [250] = 3 });

    /// <param name="year">2017 or 2019.</param>
    public ISegDataset(int year)
    {
        if (year is not (2017 or 2019)) throw new ArgumentOutOfRangeException(nameof(year), year, "iSeg is 2017 or 2019");
        Year = year;
    }

    /// <summary>Challenge year.</summary>
    public int Year { get; }

    public string Name => $"iseg{Year}";

    public IReadOnlyList<string> Aliases => [$"iseg_{Year}"];

    public string Description =>
        $"iSeg-{Year} infant brain MRI: T1, T2 (Analyze subject-N-T1/-T2/-label .hdr/.img); background, CSF, grey matter, white matter";

    public bool RequiresPath => true;

    [GeneratedRegex(@"^subject-(\d+)-(T1|T2|label)\.(hdr|img)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex FilePattern();

    public DatasetScan Scan(DatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var modalities = DatasetLayout.SelectModalities(Name, AllModalities, options.Modalities);
        var expected = $"Analyze pairs subject-<N>-T1.hdr/.img, subject-<N>-T2.hdr/.img and subject-<N>-label.hdr/.img in the folder, in iSeg-{Year}-Training below it, or in iseg_{Year}/iSeg-{Year}-Training";
        string[] candidates = ["", $"iSeg-{Year}-Training", $"iseg_{Year}/iSeg-{Year}-Training"];
        var root = options.Path is null ? null : DatasetLayout.ResolveFolder(options.Path, HasSubjects, candidates);
        if (root is null)
            return Empty(modalities, DatasetLayout.WrongFolder(Name, options.Path, expected, candidates));

        var errors = new List<string>();
        var found = new Dictionary<int, Dictionary<string, HashSet<string>>>(); // subject → role → extensions
        var names = new Dictionary<(int, string, string), string>();
        foreach (var file in Directory.EnumerateFiles(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal))
        {
            if (DatasetLayout.IsIgnorable(file)) continue;
            var m = FilePattern().Match(file);
            if (!m.Success)
            {
                if (DatasetLayout.IsVolumeFile(file))
                    errors.Add($"dataset '{Name}': unexpected file '{Path.Combine(root, file)}' (iSeg files are named subject-<N>-T1, -T2 or -label, .hdr/.img)");
                continue;
            }
            var n = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            var role = Canonical(m.Groups[2].Value);
            var ext = m.Groups[3].Value.ToLowerInvariant();
            if (!found.TryGetValue(n, out var roles)) found[n] = roles = [];
            if (!roles.TryGetValue(role, out var exts)) roles[role] = exts = [];
            exts.Add(ext);
            names[(n, role, ext)] = file;
        }

        var anyLabel = found.Values.Any(r => r.ContainsKey("label"));
        var subjects = new List<SubjectSource>();
        foreach (var (n, roles) in found.OrderBy(kv => kv.Key))
        {
            var id = $"subject-{n}";
            var ok = true;
            string? PairPath(string role)
            {
                if (!roles.TryGetValue(role, out var exts))
                {
                    errors.Add($"subject '{id}': {(role == "label" ? "label" : $"modality '{role}'")} file '{Path.Combine(root, $"{id}-{role}.hdr")}' is missing");
                    ok = false;
                    return null;
                }
                foreach (var need in new[] { "hdr", "img" })
                    if (!exts.Contains(need))
                    {
                        var have = names[(n, role, exts.First())];
                        errors.Add($"subject '{id}': '{Path.Combine(root, Path.ChangeExtension(have, need))}' is missing (an Analyze image is a .hdr/.img pair)");
                        ok = false;
                    }
                return exts.Contains("hdr") ? Path.Combine(root, names[(n, role, "hdr")]) : null;
            }
            var images = modalities.Select(mod => (mod, path: PairPath(mod))).ToArray();
            var label = anyLabel ? PairPath("label") : null;
            if (ok)
                subjects.Add(new SubjectSource(id, images.Select(i => new ModalityFile(i.mod, i.path!)).ToArray(), label, null, subjects.Count));
        }
        if (found.Count == 0) errors.Add(DatasetLayout.WrongFolder(Name, root, expected));
        return new DatasetScan(Name, root, modalities, Mapping, subjects, errors, []);
    }

    public RawSubject Load(DatasetScan scan, SubjectSource source, IVolumeReader reader, DatasetOptions options) =>
        DatasetLayout.LoadFromFiles(source, scan.Modalities, scan.Mapping, reader);

    private static string Canonical(string role) =>
        role.Equals("label", StringComparison.OrdinalIgnoreCase) ? "label" : role.ToUpperInvariant();

    private static bool HasSubjects(string dir) =>
        Directory.EnumerateFiles(dir).Any(f => FilePattern().IsMatch(Path.GetFileName(f)));

    private DatasetScan Empty(IReadOnlyList<string> modalities, string error) =>
        new(Name, null, modalities, Mapping, [], [error], []);
}
