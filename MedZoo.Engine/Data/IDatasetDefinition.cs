using MedZoo.Engine.IO;

namespace MedZoo.Engine.Data;

/// <summary>
/// A kind of dataset the pipeline can load: its name in <see cref="DatasetCatalog"/>, how it finds
/// its subjects in a folder (each challenge's published layout), its modalities, classes and label
/// mapping, and how one subject is read. Definitions are stateless: everything found is in the
/// <see cref="DatasetScan"/>.
/// </summary>
public interface IDatasetDefinition
{
    /// <summary>Catalog name, lower case (e.g. "iseg2017").</summary>
    string Name { get; }

    /// <summary>Other accepted names (e.g. MedicalZoo's "mrbrains4").</summary>
    IReadOnlyList<string> Aliases { get; }

    /// <summary>One line for listings: what the data is and the expected layout.</summary>
    string Description { get; }

    /// <summary>False for generated datasets that need no folder.</summary>
    bool RequiresPath { get; }

    /// <summary>
    /// Finds the subjects and their files for <paramref name="options"/> (path, modality subset),
    /// reading no voxel data (only small metadata such as dataset.json). Layout problems — wrong
    /// folder, missing or unexpected files — are returned in <see cref="DatasetScan.Errors"/>, each
    /// naming the subject and file, so a report can list them all.
    /// </summary>
    DatasetScan Scan(DatasetOptions options);

    /// <summary>
    /// Reads (or generates) one subject found by <see cref="Scan"/>: raw intensities (no
    /// normalization) of the scan's modalities and the label mapped to class indices. Every file is
    /// read once, through <paramref name="reader"/>. Throws <see cref="DatasetException"/> naming the
    /// subject and file.
    /// </summary>
    RawSubject Load(DatasetScan scan, SubjectSource source, IVolumeReader reader, DatasetOptions options);
}

/// <summary>What <see cref="IDatasetDefinition.Scan"/> found.</summary>
/// <param name="Dataset">Catalog name of the definition.</param>
/// <param name="Root">Folder the subjects were found in (null for generated data).</param>
/// <param name="Modalities">Modalities that will be loaded, in channel order (the options' subset).</param>
/// <param name="Mapping">Raw label values → classes and class names.</param>
/// <param name="Subjects">Subjects in a stable order (natural sort of ids).</param>
/// <param name="Errors">Layout problems; non-empty means the dataset cannot be used.</param>
/// <param name="Warnings">Oddities that do not stop loading (e.g. a known misnamed file that was accepted).</param>
public sealed record DatasetScan(
    string Dataset,
    string? Root,
    IReadOnlyList<string> Modalities,
    LabelMapping Mapping,
    IReadOnlyList<SubjectSource> Subjects,
    IReadOnlyList<string> Errors,
    IReadOnlyList<string> Warnings)
{
    /// <summary>Class names, index = class.</summary>
    public IReadOnlyList<string> ClassNames => Mapping.ClassNames;
}

/// <summary>One image file of a subject: which modality it holds and, for multi-channel files, which channel.</summary>
/// <param name="Modality">Modality name.</param>
/// <param name="Path">Full path of the file.</param>
/// <param name="Channel">Channel of a 4D file (Decathlon), or -1 for a plain 3D file.</param>
/// <param name="ChannelCount">Channels the file must have when <paramref name="Channel"/> ≥ 0 (0 = not checked).</param>
public sealed record ModalityFile(string Modality, string Path, int Channel = -1, int ChannelCount = 0);

/// <summary>A subject as found on disk (or, for generated data, its index), before any voxel is read.</summary>
/// <param name="Id">Identifier unique within the dataset.</param>
/// <param name="Images">One entry per modality to load, in channel order.</param>
/// <param name="LabelFile">Label file, or null when the subject is unlabeled.</param>
/// <param name="Group">Sub-collection (BraTS's HGG/LGG); null when none.</param>
/// <param name="Index">Position in the scan (generated datasets derive the subject from it).</param>
public sealed record SubjectSource(string Id, IReadOnlyList<ModalityFile> Images, string? LabelFile, string? Group = null, int Index = 0)
{
    /// <summary>Every distinct file the subject is read from.</summary>
    public IReadOnlyList<string> Files =>
        Images.Select(i => i.Path).Append(LabelFile).OfType<string>().Distinct(StringComparer.Ordinal).ToArray();
}

/// <summary>
/// A subject as read, before preprocessing: raw intensities per modality (float32, C-order over
/// <see cref="Size"/>) and class indices. The preprocessing step clips, crops and normalizes these
/// arrays in place and then wraps them in an immutable <see cref="Subject"/>.
/// </summary>
public sealed record RawSubject(
    string Id,
    IReadOnlyList<string> Modalities,
    float[][] Images,
    byte[]? Label,
    SpatialSize Size,
    VolumeGeometry Geometry,
    IReadOnlyList<string> SourceFiles,
    string? Group);
