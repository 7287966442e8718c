using MedZoo.Engine.Networks;
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
            Depth = model.Depth,
            DropRate = model.DropRate,
            InputSize = patchSize.Count == 3 ? patchSize.ToArray() : null,
        });

    /// <summary>The zoo's canonical spelling of a model name.</summary>
    public static string CanonicalName(string name) => ModelZoo.Get(name).Name;
}
