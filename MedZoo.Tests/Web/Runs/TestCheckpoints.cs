using System.IO.Compression;
using System.Text.Json;
using MedZoo.Engine.Checkpoints;
using MedZoo.Engine.Training;

namespace MedZoo.Tests.Web.Runs;

/// <summary>
/// Checkpoint files in MedZoo's layout built without torch: a real header and a zero-filled model.bin of a chosen
/// size. The importer and the recorder read only the header (Checkpoint.ReadHeader) and the file's size, never the
/// weights, so these exercise exactly what they check.
/// </summary>
internal static class TestCheckpoints
{
    public static byte[] Bytes(string runId, string kind, int epoch, IEnumerable<EpochCompleted>? history = null, int weightBytes = 16)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            var header = new CheckpointHeader
            {
                FormatVersion = Checkpoint.CurrentFormatVersion, RunId = runId, Kind = kind, Epoch = epoch, History = CheckpointHistory.ToJson(history ?? []),
            };
            using (var s = zip.CreateEntry("checkpoint.json").Open()) JsonSerializer.Serialize(s, header, Checkpoint.JsonOptions);
            using (var s = zip.CreateEntry("model.bin", CompressionLevel.NoCompression).Open()) s.Write(new byte[weightBytes]);
        }
        return buffer.ToArray();
    }

    public static EpochCompleted Epoch(string runId, int epoch, double loss) => new()
    {
        RunId = runId, Epoch = epoch, Epochs = 3, TrainLoss = loss, LearningRate = 1e-3, Seconds = 1,
    };
}
