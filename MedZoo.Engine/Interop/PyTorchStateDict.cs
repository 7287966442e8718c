using System.Collections;
using MedZoo.Engine.Networks.Nets;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MedZoo.Engine.Interop;

/// <summary>What a MedicalZooPytorch checkpoint file held besides the weights.</summary>
/// <param name="Epoch">The <c>epoch</c> saved by MedicalZoo's <c>save_checkpoint</c>, or null for a bare state dict.</param>
/// <param name="HadOptimizerState">Whether it held an <c>optimizer_state_dict</c> (MedZoo does not take it over; see <see cref="PyTorchStateDict"/>).</param>
/// <param name="Tensors">Number of weight tensors loaded.</param>
public sealed record PyTorchCheckpointInfo(int? Epoch, bool HadOptimizerState, int Tensors);

/// <summary>
/// PyTorch state dicts (<c>torch.save</c> zip files, read and written with TorchSharp.PyBridge) to and
/// from zoo networks, under MedicalZooPytorch's parameter names.
/// <para>
/// <see cref="SupportedModels"/> are the networks whose MedZoo implementation has MedicalZoo's layers,
/// parameter names and forward pass (UNET3D, VNET, VNET2: the state dict keys are the same, so the
/// name mapping is the identity, checked key by key and shape by shape), so a MedicalZoo class
/// computes the same outputs from exported weights and MedZoo from imported ones. The other zoo
/// networks change the reference's forward pass where it is broken (see each model's
/// <c>Differences</c>): HIGHRESNET, RESNET3DVAE and RESNETMED3D (bottleneck dilation) compute
/// something else from the same weights, the DenseNets and SKIPDENSENET3D build other layer widths for
/// most channel counts, and UNET3D_CICEK is not in MedicalZoo; moving weights between them would
/// look like it worked and predict differently, so they are refused.
/// </para>
/// <para>
/// MedicalZoo's <c>save_checkpoint</c> writes <c>{model_state_dict, optimizer_state_dict, epoch}</c>;
/// a bare state dict (<c>torch.save(model.state_dict())</c>) is accepted too. The optimizer state is
/// not taken over: PyTorch keys it by parameter position and its Adam/SGD buffers differ from
/// TorchSharp's; training continues with a fresh optimizer.
/// </para>
/// </summary>
public static class PyTorchStateDict
{
    /// <summary>Zoo names whose weights move both ways.</summary>
    public static IReadOnlyList<string> SupportedModels { get; } = [UNet3D.ZooName, VNet.ZooName, VNetLight.ZooName];

    /// <summary>Whether <paramref name="model"/> (a zoo name, any case) moves to and from PyTorch.</summary>
    public static bool Supports(string model) => SupportedModels.Contains(model.Trim(), StringComparer.OrdinalIgnoreCase);

    /// <summary>MedicalZoo's name of a MedZoo state-dict key (the identity for <see cref="SupportedModels"/>).</summary>
    public static string MedicalZooName(string model, string key)
    {
        RequireSupported(model);
        return key;
    }

    /// <summary>
    /// Writes the weights of <paramref name="network"/> (a zoo network called <paramref name="model"/>)
    /// as a PyTorch state dict that <c>torch.load</c> reads and MedicalZoo's class loads with
    /// <c>load_state_dict(strict=True)</c>. The stream stays open.
    /// </summary>
    public static void Write(nn.Module network, string model, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(destination);
        RequireSupported(model);
        using var scope = NewDisposeScope();
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in network.state_dict())
            state[MedicalZooName(model, key)] = value.detach().cpu().contiguous();
        PyTorchPickler.PickleStateDict(destination, state, leaveOpen: true);
    }

    /// <summary>
    /// Loads a MedicalZoo checkpoint (its <c>save_checkpoint</c> dict or a bare state dict) into
    /// <paramref name="network"/>, strictly: every parameter and buffer must be there with the same
    /// shape, and nothing else may be. The stream must be seekable; it stays open.
    /// </summary>
    /// <param name="source">The torch.save file.</param>
    /// <param name="network">The zoo network that receives the weights.</param>
    /// <param name="model">Its zoo name.</param>
    /// <param name="describe">How messages name the file (e.g. "checkpoint 'unet.pth'").</param>
    /// <exception cref="InvalidDataException">Not a PyTorch zip checkpoint, or weights that do not fit the network.</exception>
    public static PyTorchCheckpointInfo Read(Stream source, nn.Module network, string model, string describe)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(network);
        RequireSupported(model);
        if (!source.CanSeek) throw new ArgumentException("the stream must be seekable", nameof(source));
        // torch.save writes a zip since PyTorch 1.6; before, a bare pickle (protocol 2: 0x80 0x02), which PyBridge cannot read.
        Span<byte> magic = stackalloc byte[4];
        var start = source.Position;
        var read = source.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        source.Position = start;
        if (read == 4 && magic[0] == 0x80 && magic[1] == 0x02)
            throw new InvalidDataException($"{describe} was written in torch.save's legacy format (PyTorch before 1.6, or _use_new_zipfile_serialization=False); " +
                                           "load it in PyTorch and save it again with torch.save");
        if (read < 4 || magic[0] != (byte)'P' || magic[1] != (byte)'K' || magic[2] != 3 || magic[3] != 4)
            throw new InvalidDataException($"{describe} is not a PyTorch checkpoint (torch.save writes a zip archive)");
        Hashtable root;
        try
        {
            root = PyTorchUnpickler.UnpickleStateDict(source, leaveOpen: true);
        }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or InvalidCastException or IOException
                                     or Razorvine.Pickle.PickleException or ArgumentException or NotImplementedException)
        {
            throw new InvalidDataException($"{describe} is not a PyTorch checkpoint (a zip archive, but not one torch.save wrote: {e.Message})", e);
        }
        try
        {
            var (weights, epoch, optimizer) = Unwrap(root);
            var expected = network.state_dict();
            // Names first (a file of another network differs in both), then shapes (wrong channels or classes).
            var names = expected.Keys.Select(k => MedicalZooName(model, k)).ToHashSet(StringComparer.Ordinal);
            var missing = expected.Keys.Select(k => MedicalZooName(model, k)).Where(n => weights[n] is not Tensor).ToList();
            var unexpected = weights.Keys.Cast<object>().Select(k => k.ToString()!).Where(k => !names.Contains(k)).Order(StringComparer.Ordinal).ToList();
            if (missing.Count > 0 || unexpected.Count > 0)
                throw new InvalidDataException($"{describe} does not hold the weights of {model}: " +
                                               (missing.Count > 0 ? $"missing {Few(missing)}" : "") +
                                               (missing.Count > 0 && unexpected.Count > 0 ? "; " : "") +
                                               (unexpected.Count > 0 ? $"unexpected {Few(unexpected)}" : ""));
            foreach (var (key, target) in expected)
            {
                var name = MedicalZooName(model, key);
                var value = (Tensor)weights[name]!;
                if (!value.shape.SequenceEqual(target.shape))
                    throw new InvalidDataException($"{describe}: '{name}' has shape [{string.Join(", ", value.shape)}], the network expects " +
                                                   $"[{string.Join(", ", target.shape)}]; check the model name, input channels and classes");
            }
            using (no_grad())
                foreach (var (key, target) in expected)
                    target.copy_((Tensor)weights[MedicalZooName(model, key)]!);
            return new PyTorchCheckpointInfo(epoch, optimizer, expected.Count);
        }
        finally
        {
            DisposeTensors(root);
        }
    }

    private static (Hashtable Weights, int? Epoch, bool Optimizer) Unwrap(Hashtable root)
    {
        if (root["model_state_dict"] is Hashtable inner)
        {
            int? epoch = root["epoch"] switch
            {
                int i => i,
                long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
                _ => null,
            };
            return (inner, epoch, root["optimizer_state_dict"] is not null);
        }
        if (root.Count > 0 && root.Values.Cast<object?>().All(v => v is Tensor)) return (root, null, false);
        throw new InvalidDataException("the file holds neither a state dict nor MedicalZoo's save_checkpoint dict (no 'model_state_dict'; keys: " +
                                       Few(root.Keys.Cast<object>().Select(k => k.ToString()!).ToList()) + ")");
    }

    // Tensors unpickled by PyBridge have no owner: free them (the optimizer state's too) once copied.
    private static void DisposeTensors(object? value)
    {
        switch (value)
        {
            case Tensor t: t.Dispose(); break;
            case IDictionary d: foreach (var v in d.Values) DisposeTensors(v); break;
            case string: break;
            case IEnumerable e: foreach (var v in e) DisposeTensors(v); break;
        }
    }

    private static string Few(IReadOnlyList<string> keys) =>
        string.Join(", ", keys.Take(5).Select(k => $"'{k}'")) + (keys.Count > 5 ? $" and {keys.Count - 5} more" : "");

    private static void RequireSupported(string model)
    {
        if (!Supports(model))
            throw new NotSupportedException($"PyTorch checkpoints move both ways for {string.Join(", ", SupportedModels)}; {model} is not one of them " +
                                            "(its MedZoo forward pass differs from MedicalZoo's, see the README's Interop section)");
    }
}
