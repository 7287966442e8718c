namespace MedZoo.Engine.Checkpoints;

/// <summary>
/// Where a trainer keeps checkpoints. The engine ships a folder-based store; the dashboard keeps
/// them in LiteDB file storage. Saves must be atomic: a crash mid-write never leaves a truncated
/// checkpoint in place of a good one.
/// </summary>
public interface ICheckpointStore
{
    /// <summary>Stores a checkpoint written by <paramref name="write"/>; returns its location (path or id).</summary>
    /// <param name="runId">Run the checkpoint belongs to.</param>
    /// <param name="kind">"last" or "best" (a later save of the same kind replaces the earlier one).</param>
    /// <param name="epoch">Epoch it was taken after.</param>
    /// <param name="write">Writes the checkpoint's bytes to the given stream.</param>
    string Save(string runId, string kind, int epoch, Action<Stream> write);

    /// <summary>Opens a stored checkpoint, or returns null when there is none of that kind.</summary>
    Stream? OpenRead(string runId, string kind);
}
