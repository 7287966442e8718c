using System.Text.Json;
using MedZoo.Engine.IO;

namespace MedZoo.Engine.Data.Datasets;

/// <summary>
/// Your own data in the Medical Segmentation Decathlon layout (<see href="http://medicaldecathlon.com/"/>):
/// a task folder with <c>dataset.json</c> (<c>"modality": {"0": "FLAIR", ...}</c>,
/// <c>"labels": {"0": "background", "1": ...}</c>, <c>"training": [{"image": "./imagesTr/x.nii.gz",
/// "label": "./labelsTr/x.nii.gz"}, ...]</c>), <c>imagesTr/</c> holding one NIfTI per case with all
/// modalities as the 4th dimension (3D when there is one modality) and <c>labelsTr/</c>. Label
/// values are the class indices 0..K-1 named by "labels". Volumes in imagesTr/labelsTr that the
/// training list does not name are errors; the macOS "._*" files shipped in the Decathlon archives
/// are ignored.
/// </summary>
public sealed class DecathlonDataset : IDatasetDefinition
{
    public string Name => "decathlon";

    public IReadOnlyList<string> Aliases => ["msd"];

    public string Description => "Medical Segmentation Decathlon layout: dataset.json, imagesTr/ (4D multi-modal NIfTI), labelsTr/";

    public bool RequiresPath => true;

    public DatasetScan Scan(DatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        var warnings = new List<string>();
        const string expected = "dataset.json with \"modality\", \"labels\" and \"training\", and the imagesTr/ and labelsTr/ folders it names";
        if (DatasetJson.TryRead(Name, options.Path, expected, out var unreadable) is not { } file) return Failed(unreadable!);
        var (root, json, doc) = (file.Root, file.Path, file.Document);

        var allModalities = file.IndexedNames("modality", errors);
        var classNames = file.IndexedNames("labels", errors);
        if (!doc.TryGetProperty("training", out var training) || training.ValueKind != JsonValueKind.Array)
            errors.Add($"dataset '{Name}': '{json}' has no \"training\" list");
        if (errors.Count > 0) return Failed(errors.ToArray());
        if (classNames.Count < 2) return Failed($"dataset '{Name}': '{json}' \"labels\" must name at least background and one class");

        var modalities = DatasetLayout.SelectModalities(Name, allModalities, options.Modalities);
        var mapping = LabelMapping.Identity(classNames);
        var subjects = new List<SubjectSource>();
        var listedImages = new HashSet<string>(StringComparer.Ordinal);
        var listedLabels = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var entry in training.EnumerateArray())
        {
            index++;
            if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty("image", out var img) || img.ValueKind != JsonValueKind.String)
            {
                errors.Add($"dataset '{Name}': '{json}' training entry {index} has no \"image\" path");
                continue;
            }
            if (file.Resolve(img.GetString()!) is not { } image)
            {
                errors.Add($"dataset '{Name}': '{json}' training entry {index}: \"image\" must be a path inside the dataset folder, got \"{QuotedText.Printable(img.GetString()!)}\"");
                continue;
            }
            string? label = null;
            if (entry.TryGetProperty("label", out var lab) && lab.ValueKind == JsonValueKind.String)
            {
                label = file.Resolve(lab.GetString()!);
                if (label is null)
                {
                    errors.Add($"dataset '{Name}': '{json}' training entry {index}: \"label\" must be a path inside the dataset folder, got \"{QuotedText.Printable(lab.GetString()!)}\"");
                    continue;
                }
            }
            var id = StripExtension(Path.GetFileName(image));
            listedImages.Add(image);
            var ok = true;
            if (!File.Exists(image))
            {
                errors.Add($"subject '{id}': image file '{image}' (listed in dataset.json) is missing");
                ok = false;
            }
            if (label is null)
            {
                errors.Add($"subject '{id}': training entry {index} of '{json}' has no \"label\" path");
                ok = false;
            }
            else
            {
                listedLabels.Add(label);
                if (!File.Exists(label))
                {
                    errors.Add($"subject '{id}': label file '{label}' (listed in dataset.json) is missing");
                    ok = false;
                }
            }
            if (!ok) continue;
            var files = modalities.Select(m => allModalities.Count > 1
                ? new ModalityFile(m, image, allModalities.ToList().IndexOf(m), allModalities.Count)
                : new ModalityFile(m, image)).ToArray();
            subjects.Add(new SubjectSource(id, files, label, null, subjects.Count));
        }
        foreach (var (folder, listed) in new[] { ("imagesTr", listedImages), ("labelsTr", listedLabels) })
        {
            var dir = Path.Combine(root, folder);
            if (!Directory.Exists(dir)) continue;
            foreach (var f in Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileName(f);
                if (DatasetLayout.IsIgnorable(name) || !DatasetLayout.IsVolumeFile(name)) continue;
                if (!listed.Contains(Path.GetFullPath(f)))
                    errors.Add($"dataset '{Name}': unexpected file '{Path.GetFullPath(f)}' is not listed in the \"training\" list of '{json}'");
            }
        }
        if (file.NumTraining is { } n && n != index)
            warnings.Add($"dataset '{Name}': '{json}' says numTraining {n} but lists {index} training cases");
        var duplicates = subjects.GroupBy(s => s.Id).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        foreach (var d in duplicates) errors.Add($"subject '{d}' is listed more than once in '{json}'");
        return new DatasetScan(Name, root, modalities, mapping, subjects.OrderBy(s => s.Id, DatasetLayout.NaturalOrder).ToArray(), errors, warnings);

        DatasetScan Failed(params string[] e) => new(Name, null, [], LabelMapping.Identity(["background", "foreground"]), [], e, []);
    }

    /// <summary>
    /// Reads a case: every modality of a multi-modal case is a channel of the same 4D file (read
    /// once), which must have as many channels as dataset.json lists modalities.
    /// </summary>
    public RawSubject Load(DatasetScan scan, SubjectSource source, IVolumeReader reader, DatasetOptions options) =>
        DatasetLayout.LoadFromFiles(source, scan.Modalities, scan.Mapping, reader);

    internal static string StripExtension(string fileName)
    {
        foreach (var e in DatasetLayout.VolumeExtensions)
            if (fileName.EndsWith(e, StringComparison.OrdinalIgnoreCase)) return fileName[..^e.Length];
        return Path.GetFileNameWithoutExtension(fileName);
    }
}
