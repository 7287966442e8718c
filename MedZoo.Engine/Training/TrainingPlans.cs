using System.Text.Json;
using MedZoo.Engine.Networks;
using MedZoo.Engine.Planning;
using MedZoo.Engine.Checkpoints;

namespace MedZoo.Engine.Training;

/// <summary>
/// Turns a run's <see cref="TrainerOptions.PlanSource"/> ("auto" or a plan file) into its
/// <see cref="TrainerOptions.Plan"/> and lets the plan decide the patch, the batch and the depth.
/// The caller's options are not changed: a resolved copy is returned.
/// </summary>
public static class TrainingPlans
{
    /// <summary>The value of <see cref="TrainerOptions.PlanSource"/> that plans the dataset when the run starts.</summary>
    public const string Auto = "auto";

    /// <summary>
    /// A copy of <paramref name="options"/> with the plan resolved and applied, or
    /// <paramref name="options"/> itself when the run has no plan. <paramref name="log"/> is told the
    /// plan with its reasons. A resumed run keeps the plan saved in the checkpoint it resumes
    /// (<paramref name="savedPlan"/>), so "auto" does not re-plan (and perhaps re-size) a run halfway.
    /// </summary>
    /// <exception cref="ArgumentException">The dataset options are invalid, or the budget cannot hold the model.</exception>
    /// <exception cref="InvalidDataException">The plan file is not a valid plan.</exception>
    public static TrainerOptions Resolve(TrainerOptions options, Action<string>? log = null, Func<DatasetPlan?>? savedPlan = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Plan is null && string.IsNullOrWhiteSpace(options.PlanSource)) return options;
        var copy = JsonSerializer.Deserialize<TrainerOptions>(JsonSerializer.Serialize(options, Checkpoint.JsonOptions), Checkpoint.JsonOptions)!;
        var plan = copy.Plan;
        if (plan is null && savedPlan?.Invoke() is { } saved)
        {
            log?.Invoke("resuming with the plan saved in the checkpoint");
            plan = saved;
        }
        if (plan is null)
        {
            var source = copy.PlanSource!.Trim();
            if (source.Equals(Auto, StringComparison.OrdinalIgnoreCase))
            {
                log?.Invoke($"planning dataset '{copy.Dataset.Name}' (fingerprint, then memory measured on {copy.Device})");
                plan = PlanDataset(copy);
            }
            else
            {
                plan = DatasetPlan.Load(source);
            }
        }
        else
        {
            plan.Validate();
        }
        copy.Plan = plan;
        copy.Sampling.PatchSize = plan.PatchSize.Value.ToArray();
        copy.Sampling.BatchSize = plan.BatchSize.Value;
        if (plan.ModelDepth.Value is { } depth && ModelZoo.TryGet(copy.Model, out var model) && model.SupportedOptions.HasFlag(ModelOptionKinds.Depth)
            && ModelZoo.Get(plan.Model).Name == model.Name)
            copy.ModelDepth = depth;
        log?.Invoke(plan.Describe());
        if (!string.IsNullOrEmpty(plan.Model) && ModelZoo.TryGet(copy.Model, out var m) && ModelZoo.TryGet(plan.Model, out var planned) && m.Name != planned.Name)
            log?.Invoke($"the plan's patch and batch were measured for {planned.Name}, this run trains {m.Name}");
        return copy;
    }

    /// <summary>Fingerprints the run's dataset and plans it for the run's model and device.</summary>
    public static DatasetPlan PlanDataset(TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var fingerprint = FingerprintBuilder.Build(options.Dataset);
        return Planner.Plan(fingerprint, new PlanOptions { Model = options.Model, BaseFilters = options.BaseFilters, Device = options.Device });
    }
}
