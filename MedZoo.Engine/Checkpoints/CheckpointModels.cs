using MedZoo.Engine.Networks;
using MedZoo.Engine.Networks.Nets;
using static TorchSharp.torch;

namespace MedZoo.Engine.Checkpoints;

/// <summary>Builds the network a <see cref="CheckpointModel"/> describes, through the <see cref="ModelZoo"/>.</summary>
internal static class CheckpointModels
{
    /// <summary>A freshly initialised network with the checkpoint's (or options') hyper-parameters.</summary>
    /// <param name="model">Name, channels, classes and hyper-parameters.</param>
    /// <param name="patchSize">Training patch size (some models size layers from it; all check it).</param>
    public static nn.Module<Tensor, Tensor> Build(CheckpointModel model, IReadOnlyList<int> patchSize) =>
        ModelZoo.Create(model.Name, model.InChannels, model.Classes, new ModelOptions
        {
            BaseFilters = model.BaseFilters,
            Depth = model.Depth ?? (IsResNetMed3D(model.Name) ? ResNetMed3D.UnrecordedCheckpointDepth : null),
            DropRate = model.DropRate,
            InputSize = patchSize.Count == 3 ? patchSize.ToArray() : null,
        });

    /// <summary>
    /// The depth a new run records: the one asked for, else the default where a model's default
    /// changed between versions (RESNETMED3D: 10, now 18), so its checkpoints rebuild the same network
    /// whatever later versions choose. A RESNETMED3D checkpoint without a depth predates the change
    /// and is rebuilt at depth <see cref="ResNetMed3D.UnrecordedCheckpointDepth"/>.
    /// </summary>
    public static int? RecordedDepth(string name, int? depth) => depth ?? (IsResNetMed3D(name) ? ResNetMed3D.DefaultDepth : null);

    private static bool IsResNetMed3D(string name) => string.Equals(name, ResNetMed3D.ZooName, StringComparison.OrdinalIgnoreCase);

    /// <summary>The zoo's canonical spelling of a model name.</summary>
    public static string CanonicalName(string name) => ModelZoo.Get(name).Name;
}
