using MedZoo.Engine.Data;

namespace MedZoo.Engine.Planning;

/// <summary>A dataset plan as the dataset loader's preprocessing: reorient, normalize and resample each subject as planned.</summary>
/// <param name="plan">The plan.</param>
public sealed class PlannedPreprocessing(DatasetPlan plan) : ISubjectPreprocessing
{
    /// <summary>The plan.</summary>
    public DatasetPlan Plan { get; } = plan ?? throw new ArgumentNullException(nameof(plan));

    /// <inheritdoc />
    public string CacheKey => Plan.PreprocessingKey();

    /// <inheritdoc />
    public Subject Preprocess(RawSubject raw, int classCount) => PlanTransform.Preprocess(raw, Plan, classCount);
}
