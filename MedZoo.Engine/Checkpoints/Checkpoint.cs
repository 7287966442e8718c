using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp.Modules;
using static TorchSharp.torch;
using MedZoo.Engine.IO;

namespace MedZoo.Engine.Checkpoints;

/// <summary>
/// A MedZoo checkpoint: one zip file that carries everything needed to continue a run or to predict
/// with it, so inference never needs the training options file or the dataset.
/// <list type="table">
/// <item><term>checkpoint.json</term><description><see cref="CheckpointHeader"/>: model name and hyper-parameters, class
/// names, modalities, normalization, patch size, epoch, global step, best metric, seed, scheduler and early-stopping
/// state, metric history, and the full trainer options.</description></item>
/// <item><term>model.bin</term><description>The model's state dict in TorchSharp's format (<c>Module.save</c>).</description></item>
/// <item><term>optimizer.bin</term><description>The optimizer's state (<c>save_state_dict</c>); absent in inference-only checkpoints.</description></item>
/// <item><term>rng.bin</term><description>torch's default CPU generator state (<c>torch.get_rng_state</c>); optional.</description></item>
/// </list>
/// Weights are stored uncompressed (they do not compress, and storing is fast); JSON is deflated.
/// </summary>
public sealed class Checkpoint
{
    /// <summary>Version of the layout this code writes; readers reject newer versions with a clear message.</summary>
    public const int CurrentFormatVersion = 1;

    private const string HeaderEntry = "checkpoint.json";
    private const string ModelEntry = "model.bin";
    private const string OptimizerEntry = "optimizer.bin";
    private const string RngEntry = "rng.bin";

    /// <summary>JSON settings of checkpoint headers (NaN allowed: metrics can be undefined).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    private Checkpoint(CheckpointHeader header, byte[] model, byte[]? optimizer, byte[]? rng)
    {
        Header = header;
        ModelState = model;
        OptimizerState = optimizer;
        RngState = rng;
    }

    /// <summary>The metadata.</summary>
    public CheckpointHeader Header { get; }

    /// <summary>Serialized model state (TorchSharp format).</summary>
    public byte[] ModelState { get; }

    /// <summary>Serialized optimizer state, or null for an inference-only checkpoint.</summary>
    public byte[]? OptimizerState { get; }

    /// <summary>torch's CPU generator state, or null.</summary>
    public byte[]? RngState { get; }

    /// <summary>Writes a checkpoint to <paramref name="destination"/> (which may be unseekable); the stream stays open.</summary>
    /// <param name="destination">Where the zip goes.</param>
    /// <param name="header">Metadata (its <see cref="CheckpointHeader.FormatVersion"/> is set here).</param>
    /// <param name="model">The model whose state is saved.</param>
    /// <param name="optimizer">Its optimizer, or null for an inference-only checkpoint.</param>
    /// <param name="includeRngState">Also save torch's default generator state.</param>
    public static void Write(Stream destination, CheckpointHeader header, nn.Module model, OptimizerHelper? optimizer, bool includeRngState = true)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(model);
        header.FormatVersion = CurrentFormatVersion;
        using var zip = new ZipArchive(destination, ZipArchiveMode.Create, leaveOpen: true);
        using (var s = zip.CreateEntry(HeaderEntry, CompressionLevel.Optimal).Open())
            JsonSerializer.Serialize(s, header, JsonOptions);
        using (var s = zip.CreateEntry(ModelEntry, CompressionLevel.NoCompression).Open())
        using (var w = new BinaryWriter(s, System.Text.Encoding.UTF8, leaveOpen: true))
            model.save(w);
        if (optimizer is not null)
        {
            using var s = zip.CreateEntry(OptimizerEntry, CompressionLevel.NoCompression).Open();
            using var w = new BinaryWriter(s, System.Text.Encoding.UTF8, leaveOpen: true);
            optimizer.save_state_dict(w);
        }
        if (includeRngState)
        {
            using var state = get_rng_state();
            var bytes = state.data<byte>().ToArray();
            using var s = zip.CreateEntry(RngEntry, CompressionLevel.NoCompression).Open();
            s.Write(bytes);
        }
    }

    /// <summary>Reads a checkpoint (the stream need not be seekable; it is not closed).</summary>
    /// <exception cref="InvalidDataException">Not a MedZoo checkpoint, a newer format, or a missing part.</exception>
    public static Checkpoint Read(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        Stream seekable = source;
        MemoryStream? copy = null;
        if (!source.CanSeek)
        {
            copy = new MemoryStream();
            source.CopyTo(copy);
            copy.Position = 0;
            seekable = copy;
        }
        try
        {
            ZipArchive zip;
            try { zip = new ZipArchive(seekable, ZipArchiveMode.Read, leaveOpen: true); }
            catch (InvalidDataException e) { throw new InvalidDataException($"not a MedZoo checkpoint (not a zip archive: {e.Message})", e); }
            using (zip)
            {
                var headerEntry = zip.GetEntry(HeaderEntry) ?? throw new InvalidDataException($"not a MedZoo checkpoint: {HeaderEntry} is missing");
                CheckpointHeader header;
                using (var s = headerEntry.Open())
                {
                    try { header = JsonSerializer.Deserialize<CheckpointHeader>(s, JsonOptions) ?? throw new InvalidDataException($"{HeaderEntry} is empty"); }
                    catch (JsonException e) { throw new InvalidDataException($"checkpoint header is not valid: {e.Message}", e); }
                }
                if (header.FormatVersion > CurrentFormatVersion)
                    throw new InvalidDataException($"checkpoint format {header.FormatVersion} is newer than this MedZoo understands ({CurrentFormatVersion}); upgrade MedZoo");
                var model = ReadEntry(zip, ModelEntry) ?? throw new InvalidDataException($"checkpoint has no {ModelEntry}");
                return new Checkpoint(header, model, ReadEntry(zip, OptimizerEntry), ReadEntry(zip, RngEntry));
            }
        }
        finally
        {
            copy?.Dispose();
        }
    }

    /// <summary>Largest checkpoint.json accepted (a header with years of metric history is a few MB).</summary>
    public const long MaxHeaderBytes = 64L << 20;

    /// <summary>
    /// Reads and checks only the header of a checkpoint (a seekable stream; it is not closed): the
    /// archive, a header this version understands, and the presence of the model weights. Cheap
    /// for any checkpoint size, so a checkpoint from elsewhere can be checked before it is copied.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a MedZoo checkpoint, a newer format, or no weights.</exception>
    public static CheckpointHeader ReadHeader(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (!source.CanSeek) throw new ArgumentException("the stream must be seekable", nameof(source));
        ZipArchive zip;
        try { zip = new ZipArchive(source, ZipArchiveMode.Read, leaveOpen: true); }
        catch (InvalidDataException e) { throw new InvalidDataException($"not a MedZoo checkpoint (not a zip archive: {e.Message})", e); }
        using (zip)
        {
            var entry = zip.GetEntry(HeaderEntry) ?? throw new InvalidDataException($"not a MedZoo checkpoint: {HeaderEntry} is missing");
            if (entry.Length > MaxHeaderBytes)
                throw new InvalidDataException($"{HeaderEntry} is {entry.Length} bytes; at most {MaxHeaderBytes} are accepted");
            CheckpointHeader header;
            using (var s = entry.Open())
            {
                try { header = JsonSerializer.Deserialize<CheckpointHeader>(s, JsonOptions) ?? throw new InvalidDataException($"{HeaderEntry} is empty"); }
                catch (JsonException e) { throw new InvalidDataException($"checkpoint header is not valid: {e.Message}", e); }
            }
            if (header.FormatVersion > CurrentFormatVersion)
                throw new InvalidDataException($"checkpoint format {header.FormatVersion} is newer than this MedZoo understands ({CurrentFormatVersion}); upgrade MedZoo");
            if (zip.GetEntry(ModelEntry) is null) throw new InvalidDataException($"checkpoint has no {ModelEntry}");
            return header;
        }
    }

    /// <summary>Reads a checkpoint file.</summary>
    public static Checkpoint Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint '{path}' does not exist", path);
        using var s = File.OpenRead(path);
        return Read(s);
    }

    /// <summary>Loads the saved weights into <paramref name="model"/> (same architecture; strict key match).</summary>
    /// <exception cref="InvalidDataException">
    /// The saved weights are damaged or do not fit the network (TorchSharp's own errors say neither which
    /// checkpoint nor which network, so they are wrapped with both).
    /// </exception>
    public void LoadModel(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var ms = new MemoryStream(ModelState, writable: false);
        using var r = new BinaryReader(ms);
        try
        {
            model.load(r, strict: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not InvalidDataException)
        {
            throw new InvalidDataException(
                $"the weights of checkpoint '{Header.Kind}' of run '{Header.RunId}' ({Header.Model.Name}, {Header.Model.InChannels} channel(s), " +
                $"{Header.Model.Classes} classes) are damaged or do not fit this network: {QuotedText.Printable(e.Message, 300)}", e);
        }
    }

    /// <summary>Loads the saved optimizer state into <paramref name="optimizer"/> (same type and parameter layout).</summary>
    /// <exception cref="InvalidOperationException">The checkpoint holds no optimizer state.</exception>
    public void LoadOptimizer(OptimizerHelper optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (OptimizerState is null)
            throw new InvalidOperationException("this checkpoint holds no optimizer state (an inference-only checkpoint cannot resume training)");
        using var ms = new MemoryStream(OptimizerState, writable: false);
        using var r = new BinaryReader(ms);
        optimizer.load_state_dict(r);
    }

    /// <summary>Restores torch's default generator state, when saved. Returns whether it was.</summary>
    public bool RestoreRngState()
    {
        if (RngState is null) return false;
        using var state = tensor(RngState, [RngState.LongLength], ScalarType.Byte);
        set_rng_state(state);
        return true;
    }

    private static byte[]? ReadEntry(ZipArchive zip, string name)
    {
        var entry = zip.GetEntry(name);
        if (entry is null) return null;
        using var s = entry.Open();
        using var ms = new MemoryStream(entry.Length > 0 && entry.Length < int.MaxValue ? (int)entry.Length : 0);
        s.CopyTo(ms);
        return ms.ToArray();
    }
}
