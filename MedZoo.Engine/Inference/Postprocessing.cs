using static TorchSharp.torch;

namespace MedZoo.Engine.Inference;

/// <summary>Which neighbours of a voxel are connected to it.</summary>
public enum Connectivity
{
    /// <summary>The 6 face neighbours (the strictest: diagonal contacts split components).</summary>
    Faces6 = 6,
    /// <summary>Face and edge neighbours (18).</summary>
    Edges18 = 18,
    /// <summary>Face, edge and corner neighbours (26): the usual choice for anatomy, and the default.</summary>
    Corners26 = 26,
}

/// <summary>
/// Label-map clean-up after inference. Keeping only the largest connected component of each class
/// removes small false-positive islands far from the structure (nnU-Net's
/// <c>remove_all_but_largest_component</c>); it suits classes that are one connected object (an organ,
/// a tumour) and can hurt classes that are legitimately fragmented (lesions, sulcal CSF).
/// </summary>
public static class Postprocessing
{
    /// <summary>
    /// In place: for each class other than <paramref name="background"/> (or each class in
    /// <paramref name="classes"/>), keeps its largest connected component and sets the voxels of its
    /// other components to <paramref name="background"/>. Ties keep the component found first in
    /// C order (D, then H, then W).
    /// </summary>
    /// <param name="labels">(D, H, W) labels in C order (W fastest).</param>
    /// <param name="depth">D.</param>
    /// <param name="height">H.</param>
    /// <param name="width">W.</param>
    /// <param name="connectivity">Neighbourhood; default 26-connectivity.</param>
    /// <param name="classes">Classes to clean; null means every label present except the background.</param>
    /// <param name="background">Label that removed voxels receive; never itself cleaned unless listed.</param>
    /// <returns>Number of voxels set to background.</returns>
    public static long KeepLargestComponent(Span<int> labels, int depth, int height, int width,
        Connectivity connectivity = Connectivity.Corners26, IReadOnlyCollection<int>? classes = null, int background = 0)
    {
        if (depth <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"shape ({depth}, {height}, {width}) must be positive");
        if ((long)depth * height * width != labels.Length)
            throw new ArgumentException($"labels has {labels.Length} values, shape ({depth}, {height}, {width}) needs {(long)depth * height * width}", nameof(labels));
        if (!Enum.IsDefined(connectivity))
            throw new ArgumentException($"connectivity must be 6, 18 or 26, got {(int)connectivity}", nameof(connectivity));
        var offsets = Neighbourhood(connectivity);
        var selected = classes is null ? null : new HashSet<int>(classes);

        var n = labels.Length;
        var component = new int[n];                 // 0 = not visited / not cleaned; else component id
        var sizes = new List<long> { 0 };           // index = component id
        var componentClass = new List<int> { 0 };
        var queue = new int[n];
        var plane = height * width;
        for (var start = 0; start < n; start++)
        {
            var label = labels[start];
            if (component[start] != 0) continue;
            if (selected is null ? label == background : !selected.Contains(label)) continue;
            var id = sizes.Count;
            sizes.Add(0);
            componentClass.Add(label);
            int head = 0, tail = 0;
            queue[tail++] = start;
            component[start] = id;
            while (head < tail)
            {
                var v = queue[head++];
                var z = v / plane;
                var rem = v - z * plane;
                var y = rem / width;
                var x = rem - y * width;
                foreach (var (dz, dy, dx) in offsets)
                {
                    int nz = z + dz, ny = y + dy, nx = x + dx;
                    if ((uint)nz >= (uint)depth || (uint)ny >= (uint)height || (uint)nx >= (uint)width) continue;
                    var u = nz * plane + ny * width + nx;
                    if (component[u] != 0 || labels[u] != label) continue;
                    component[u] = id;
                    queue[tail++] = u;
                }
            }
            sizes[id] = tail;
        }

        // Largest component per class (first found wins ties).
        var keep = new Dictionary<int, int>();
        for (var id = 1; id < sizes.Count; id++)
        {
            var c = componentClass[id];
            if (!keep.TryGetValue(c, out var best) || sizes[id] > sizes[best]) keep[c] = id;
        }
        long removed = 0;
        for (var i = 0; i < n; i++)
        {
            var id = component[i];
            if (id == 0 || keep[componentClass[id]] == id) continue;
            labels[i] = background;
            removed++;
        }
        return removed;
    }

    /// <summary>
    /// Tensor form of <see cref="KeepLargestComponent(Span{int}, int, int, int, Connectivity, IReadOnlyCollection{int}?, int)"/>
    /// for (D, H, W) or (B, D, H, W) integer labels; returns a new tensor (same shape, dtype and device)
    /// owned by the caller. Runs on the CPU.
    /// </summary>
    public static Tensor KeepLargestComponent(Tensor labels, Connectivity connectivity = Connectivity.Corners26,
        IReadOnlyCollection<int>? classes = null, int background = 0)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.dim() is not (3 or 4))
            throw new ArgumentException($"labels must be (D, H, W) or (B, D, H, W), got shape ({string.Join(", ", labels.shape)})", nameof(labels));
        if (labels.is_floating_point() || labels.dtype == ScalarType.Bool)
            throw new ArgumentException($"labels must be an integer tensor, got {labels.dtype}", nameof(labels));
        using var scope = NewDisposeScope();
        var batched = labels.dim() == 4 ? labels : labels.unsqueeze(0);
        int d = (int)batched.shape[1], h = (int)batched.shape[2], w = (int)batched.shape[3];
        var data = batched.to(ScalarType.Int32).cpu().data<int>().ToArray();
        var volume = d * h * w;
        for (var b = 0; b < batched.shape[0]; b++)
            KeepLargestComponent(data.AsSpan(b * volume, volume), d, h, w, connectivity, classes, background);
        var result = tensor(data, batched.shape).to(labels.dtype, labels.device);
        if (labels.dim() == 3) result = result.squeeze(0);
        return result.MoveToOuterDisposeScope();
    }

    private static (int Dz, int Dy, int Dx)[] Neighbourhood(Connectivity connectivity)
    {
        var list = new List<(int, int, int)>();
        for (var dz = -1; dz <= 1; dz++)
            for (var dy = -1; dy <= 1; dy++)
                for (var dx = -1; dx <= 1; dx++)
                {
                    var order = Math.Abs(dz) + Math.Abs(dy) + Math.Abs(dx);
                    if (order == 0) continue;
                    if (connectivity == Connectivity.Faces6 && order > 1) continue;
                    if (connectivity == Connectivity.Edges18 && order > 2) continue;
                    list.Add((dz, dy, dx));
                }
        return [.. list];
    }
}
