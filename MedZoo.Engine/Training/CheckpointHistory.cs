using System.Text.Json;
using MedZoo.Engine.Checkpoints;

namespace MedZoo.Engine.Training;

/// <summary>
/// The trainer's epoch history as a checkpoint keeps it: <see cref="CheckpointHeader.History"/> holds
/// the <see cref="EpochCompleted"/> events as JSON, so that the checkpoint format, and inference that
/// reads it, do not depend on the trainer's types.
/// </summary>
public static class CheckpointHistory
{
    /// <summary>The completed epochs a checkpoint carries, oldest first; null entries are skipped.</summary>
    /// <exception cref="InvalidDataException">An entry is not an epoch summary.</exception>
    public static IReadOnlyList<EpochCompleted> Epochs(this CheckpointHeader header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var epochs = new List<EpochCompleted>(header.History.Count);
        for (var i = 0; i < header.History.Count; i++)
        {
            try
            {
                if (header.History[i].Deserialize<EpochCompleted>(Checkpoint.JsonOptions) is { } e) epochs.Add(e);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"checkpoint history entry {i + 1} is not an epoch summary: {ex.Message}", ex);
            }
        }
        return epochs;
    }

    /// <summary>The history as <see cref="CheckpointHeader.History"/> stores it.</summary>
    public static List<JsonElement> ToJson(IEnumerable<EpochCompleted> epochs)
    {
        ArgumentNullException.ThrowIfNull(epochs);
        return epochs.Select(e => JsonSerializer.SerializeToElement(e, Checkpoint.JsonOptions)).ToList();
    }
}
