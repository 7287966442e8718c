namespace MedZoo.Engine.Data;

/// <summary>
/// Preprocessing that replaces the options' own (normalization, clipping, cropping) when a dataset is
/// loaded, e.g. a dataset plan's reorientation, normalization and resampling. Declared here so that
/// Data does not depend on whoever provides it (Planning depends on Data, not the reverse).
/// </summary>
public interface ISubjectPreprocessing
{
    /// <summary>Identifies the preprocessing in the subject cache's keys: a change gives new cache files.</summary>
    string CacheKey { get; }

    /// <summary>The training-ready subject of one loaded subject.</summary>
    Subject Preprocess(RawSubject raw, int classCount);
}
