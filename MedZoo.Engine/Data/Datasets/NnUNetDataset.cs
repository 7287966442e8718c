using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using MedZoo.Engine.IO;

namespace MedZoo.Engine.Data.Datasets;

/// <summary>
/// Your own data in the nnU-Net (v2) raw layout
/// (<see href="https://github.com/MIC-DKFZ/nnUNet/blob/master/documentation/dataset_format.md"/>):
/// a DatasetXXX_Name folder with <c>dataset.json</c> (<c>"channel_names": {"0": "T2", "1": "ADC"}</c>,
/// <c>"labels": {"background": 0, "PZ": 1, ...}</c>, <c>"numTraining"</c>, <c>"file_ending"</c>),
/// <c>imagesTr/&lt;case&gt;_&lt;XXXX&gt;&lt;file_ending&gt;</c> — one file per channel, XXXX the
/// four-digit channel index — and <c>labelsTr/&lt;case&gt;&lt;file_ending&gt;</c>. Label values
/// must be consecutive integers from 0 (nnU-Net's rule). v1's <c>"modality"</c> and index→name
/// labels are accepted too. Region-based labels and the "ignore" label are not supported and say
/// so. Cases are the files in labelsTr; an image without a label, a channel that
/// <c>channel_names</c> does not list, or a numTraining that disagrees is an error, as
/// nnU-Net's own integrity check treats it.
/// </summary>
public sealed partial class NnUNetDataset : IDatasetDefinition
{
    public string Name => "nnunet";

    public IReadOnlyList<string> Aliases => ["nnunetv2", "nnu-net"];

    public string Description => "nnU-Net raw layout: dataset.json, imagesTr/<case>_0000<file_ending> per channel, labelsTr/<case><file_ending>";

    public bool RequiresPath => true;

    [GeneratedRegex(@"^(?<case>.+)_(?<channel>\d{4})$", RegexOptions.CultureInvariant)]
    private static partial Regex ChannelPattern();

    public DatasetScan Scan(DatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        const string expected = "dataset.json with \"channel_names\", \"labels\" and \"file_ending\", imagesTr/<case>_0000<ending> per channel and labelsTr/<case><ending>";
        if (DatasetJson.TryRead(Name, options.Path, expected, out var unreadable) is not { } file) return Failed(unreadable!);
        var (root, json, doc) = (file.Root, file.Path, file.Document);

        var channelProperty = doc.TryGetProperty("channel_names", out _) ? "channel_names" : "modality";
        var channels = file.IndexedNames(channelProperty, errors);
        var classNames = Labels(doc, json, errors);
        var ending = doc.TryGetProperty("file_ending", out var fe) && fe.ValueKind == JsonValueKind.String ? fe.GetString()! : ".nii.gz";
        if (!ValidEnding(ending))
            errors.Add($"'{json}' \"file_ending\" must be a file extension such as \".nii.gz\", got \"{QuotedText.Printable(ending)}\"");
        if (errors.Count > 0) return Failed(errors.Select(e => $"dataset '{Name}': {e}").ToArray());
        if (channels.Count == 0) return Failed($"dataset '{Name}': '{json}' lists no channels");

        var modalities = DatasetLayout.SelectModalities(Name, channels, options.Modalities);
        var imagesDir = Path.Combine(root, "imagesTr");
        var labelsDir = Path.Combine(root, "labelsTr");
        if (!Directory.Exists(imagesDir)) errors.Add($"dataset '{Name}': folder '{imagesDir}' is missing");
        if (!Directory.Exists(labelsDir)) errors.Add($"dataset '{Name}': folder '{labelsDir}' is missing");
        if (errors.Count > 0) return Failed(errors.ToArray());

        var cases = Directory.EnumerateFiles(labelsDir).Select(Path.GetFileName).OfType<string>()
            .Where(f => !DatasetLayout.IsIgnorable(f) && f.EndsWith(ending, StringComparison.Ordinal))
            .Select(f => f[..^ending.Length]).Order(DatasetLayout.NaturalOrder).ToArray();
        foreach (var f in Directory.EnumerateFiles(labelsDir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal))
            if (!DatasetLayout.IsIgnorable(f) && !f.EndsWith(ending, StringComparison.Ordinal) && DatasetLayout.IsVolumeFile(f))
                errors.Add($"dataset '{Name}': unexpected file '{Path.Combine(labelsDir, f)}': its name does not end with the file_ending '{ending}' of '{json}'");
        var caseSet = cases.ToHashSet(StringComparer.Ordinal);
        foreach (var f in Directory.EnumerateFiles(imagesDir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal))
        {
            if (DatasetLayout.IsIgnorable(f)) continue;
            var stem = f.EndsWith(ending, StringComparison.Ordinal) ? f[..^ending.Length] : null;
            var m = stem is null ? null : ChannelPattern().Match(stem);
            if (m is null || !m.Success)
            {
                if (DatasetLayout.IsVolumeFile(f))
                    errors.Add($"dataset '{Name}': unexpected file '{Path.Combine(imagesDir, f)}' (images are named <case>_<XXXX>{ending}, with the file_ending of '{json}')");
                continue;
            }
            var channel = int.Parse(m.Groups["channel"].Value, CultureInfo.InvariantCulture);
            if (!caseSet.Contains(m.Groups["case"].Value))
                errors.Add($"dataset '{Name}': image '{Path.Combine(imagesDir, f)}' has no label file '{Path.Combine(labelsDir, m.Groups["case"].Value + ending)}'");
            else if (channel >= channels.Count)
                errors.Add($"subject '{m.Groups["case"].Value}': image '{Path.Combine(imagesDir, f)}' is channel {channel}, but channel_names lists {channels.Count}");
        }

        var subjects = new List<SubjectSource>();
        foreach (var c in cases)
        {
            var ok = true;
            var files = new List<ModalityFile>();
            for (var ch = 0; ch < channels.Count; ch++)
            {
                var path = Path.Combine(imagesDir, $"{c}_{ch:D4}{ending}");
                if (!File.Exists(path))
                {
                    errors.Add($"subject '{c}': channel {ch} ('{channels[ch]}') file '{path}' is missing");
                    ok = false;
                }
                else if (modalities.Contains(channels[ch]))
                    files.Add(new ModalityFile(channels[ch], path));
            }
            if (!ok) continue;
            files = modalities.Select(m => files.First(f => f.Modality == m)).ToList();
            subjects.Add(new SubjectSource(c, files, Path.Combine(labelsDir, c + ending), null, subjects.Count));
        }
        if (file.NumTraining is { } n && n != cases.Length)
            errors.Add($"dataset '{Name}': '{json}' says numTraining {n}, but '{labelsDir}' holds {cases.Length} cases");
        return new DatasetScan(Name, root, modalities, LabelMapping.Identity(classNames), subjects, errors, []);

        DatasetScan Failed(params string[] e) => new(Name, null, [], LabelMapping.Identity(["background", "foreground"]), [], e, []);
    }

    // A file ending names files inside imagesTr/ and labelsTr/: a dot, then letters, digits, '.', '_' or '-' (no separator, NUL or "..").
    private static bool ValidEnding(string ending) =>
        ending.Length is > 1 and <= 32 && ending[0] == '.' && !ending.Contains("..", StringComparison.Ordinal)
        && ending.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    public RawSubject Load(DatasetScan scan, SubjectSource source, IVolumeReader reader, DatasetOptions options) =>
        DatasetLayout.LoadFromFiles(source, scan.Modalities, scan.Mapping, reader);

    /// <summary>Class names from "labels": v2's name → value or v1's "value" → name; values must be 0..K-1.</summary>
    private static IReadOnlyList<string> Labels(JsonElement doc, string json, List<string> errors)
    {
        if (!doc.TryGetProperty("labels", out var labels) || labels.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"'{json}' has no \"labels\" object");
            return [];
        }
        var byValue = new SortedDictionary<int, string>();
        foreach (var p in labels.EnumerateObject())
        {
            if (p.Value.ValueKind == JsonValueKind.Array)
            {
                errors.Add($"'{json}' label \"{p.Name}\" is a region (a list of values); region-based training is not supported");
                continue;
            }
            if (p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var v))
            {
                if (string.Equals(p.Name, "ignore", StringComparison.OrdinalIgnoreCase))
                {
                    errors.Add($"'{json}' has an \"ignore\" label ({v}); partially annotated data is not supported");
                    continue;
                }
                if (!byValue.TryAdd(v, p.Name)) errors.Add($"'{json}' labels \"{byValue[v]}\" and \"{p.Name}\" share the value {v}");
            }
            else if (p.Value.ValueKind == JsonValueKind.String && int.TryParse(p.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var k))
                byValue[k] = p.Value.GetString()!; // v1: "0": "background"
            else
                errors.Add($"'{json}' label \"{p.Name}\" must be an integer value");
        }
        if (byValue.Count > 0 && (byValue.Keys.First() != 0 || byValue.Keys.Last() != byValue.Count - 1))
            errors.Add($"'{json}' label values must be consecutive from 0 (0..{byValue.Count - 1}), got {string.Join(", ", byValue.Keys)}");
        else if (byValue.Count is > 0 and < 2)
            errors.Add($"'{json}' \"labels\" must name background (0) and at least one class");
        return byValue.Values.ToArray();
    }
}
