namespace MedZoo.Web.Runs.Forms;

/// <summary>
/// Which options the New run form shows first. The rest sit under "Advanced", collapsed and grouped
/// by their nested options, so a first run needs a glance rather than a scroll through every setting.
/// </summary>
public static class OptionLayout
{
    /// <summary>
    /// The options that decide a run, in the order shown (after the preset): model, dataset, epochs,
    /// patch size, batch size, learning rate, loss. Paths a configuration type lacks are skipped.
    /// </summary>
    public static IReadOnlyList<string> Essentials { get; } =
        ["Model", "Dataset.Name", "Epochs", "Sampling.PatchSize", "Sampling.BatchSize", "LearningRate", "Loss"];

    /// <summary>The title of a group of advanced options ("" is the top-level options).</summary>
    public static string GroupTitle(string group) => group.Length == 0 ? "Training" : OptionFields.Humanize(group);

    /// <summary>The element id of a field's input ("opt-Sampling-PatchSize").</summary>
    public static string InputId(string path) => "opt-" + path.Replace('.', '-');

    /// <summary>The element id of an advanced group's panel ("group-Sampling", "group-Training").</summary>
    public static string GroupId(string group) => "group-" + (group.Length == 0 ? "Training" : group);
}
