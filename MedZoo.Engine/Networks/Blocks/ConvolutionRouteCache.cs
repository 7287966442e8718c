using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MedZoo.Engine.Networks.Blocks;

/// <summary>
/// The verdicts and choices of <see cref="CpuConvolution"/>'s per-shape checks and timings, kept in a
/// file so that a second process with the same shapes starts at full speed instead of checking and
/// timing every shape again (0.8 s for UNET3D at 32³ to tens of seconds for VNET at 64³).
/// <para>
/// Choices are grouped by a <em>context</em>: the CPU model and a digest of its instruction-set flags,
/// the libtorch version, the oneDNN instruction-set cap, torch's intra-op thread count and the
/// process's convolution route; within a context, by the layer settings and shapes. A choice is used
/// only where every part of its context is the same, so a new CPU, libtorch, cap or thread count
/// measures anew (the file keeps the <see cref="MaxContexts"/> most recently used contexts).
/// </para>
/// <para>
/// The file is written whole, to a temporary file beside it that is then renamed over it, after
/// merging what other processes saved meanwhile. A file that cannot be read as this format (truncated,
/// hand-edited, another program's, too large) is ignored with a reason in <see cref="Status"/>, and
/// replaced at the next save; it is never fatal. <c>MEDZOO_CPU_CONV_CACHE</c> sets the file, or
/// <c>off</c> disables it; the default is <c>$XDG_CACHE_HOME/medzoo/cpu-convolution-routes.json</c>
/// (<c>~/.cache/...</c> without XDG_CACHE_HOME).
/// </para>
/// </summary>
public sealed class ConvolutionRouteCache
{
    /// <summary>Environment variable with the cache file's path, or <c>off</c>.</summary>
    public const string Variable = "MEDZOO_CPU_CONV_CACHE";

    /// <summary>Largest file read (larger ones are ignored as not this cache's).</summary>
    public const int MaxFileBytes = 4 << 20;

    /// <summary>Contexts kept in the file, most recently used first.</summary>
    public const int MaxContexts = 16;

    /// <summary>Shapes kept per context.</summary>
    public const int MaxShapes = 4096;

    private const int Format = 3;
    private const int MaxKeyLength = 1000;

    private readonly Lock _gate = new();
    private Dictionary<string, Context>? _contexts;
    private string _status;
    private int _hits;

    /// <summary>A cache in <paramref name="path"/>, or none (every lookup misses, nothing is saved) when null.</summary>
    public ConvolutionRouteCache(string? path)
    {
        Path = path;
        _status = path is null ? "off" : "not read yet";
    }

    /// <summary>The cache file, or null when the cache is off.</summary>
    public string? Path { get; }

    /// <summary>What happened with the file: read (how many choices), absent, ignored (and why), or saving failed.</summary>
    public string Status
    {
        get
        {
            lock (_gate)
            {
                EnsureLoaded();
                return _status;
            }
        }
    }

    /// <summary>Lookups answered from the file (not from this process's own checks).</summary>
    public int Hits => Volatile.Read(ref _hits);

    /// <summary>The cache <see cref="Variable"/> asks for, or the default file.</summary>
    public static ConvolutionRouteCache FromEnvironment()
    {
        var setting = Environment.GetEnvironmentVariable(Variable);
        if (string.Equals(setting?.Trim(), "off", StringComparison.OrdinalIgnoreCase)) return new ConvolutionRouteCache(null);
        if (!string.IsNullOrWhiteSpace(setting)) return new ConvolutionRouteCache(System.IO.Path.GetFullPath(setting.Trim()));
        var root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrWhiteSpace(root))
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (string.IsNullOrEmpty(home)) return new ConvolutionRouteCache(null);
            root = System.IO.Path.Combine(home, ".cache");
        }
        return new ConvolutionRouteCache(System.IO.Path.Combine(root, "medzoo", "cpu-convolution-routes.json"));
    }

    /// <summary>The entry for <paramref name="shape"/> in <paramref name="context"/>, if the file has one.</summary>
    internal bool TryGet(string context, string shape, out CachedRoute entry)
    {
        lock (_gate)
        {
            EnsureLoaded();
            if (_contexts!.TryGetValue(context, out var c) && c.Shapes.TryGetValue(shape, out entry))
            {
                c.Used = DateTime.UtcNow;
                _hits++;
                return true;
            }
            entry = default;
            return false;
        }
    }

    /// <summary>Records a choice and saves the file (merged with what is on disk now, written atomically).</summary>
    internal void Put(string context, string shape, CachedRoute entry)
    {
        if (Path is null || context.Length > MaxKeyLength || shape.Length > MaxKeyLength) return;
        lock (_gate)
        {
            EnsureLoaded();
            if (!_contexts!.TryGetValue(context, out var mine)) _contexts[context] = mine = new Context();
            if (mine.Shapes.Count >= MaxShapes && !mine.Shapes.ContainsKey(shape)) return;
            mine.Shapes[shape] = entry;
            mine.Used = DateTime.UtcNow;
            Save(context);
        }
    }

    private void EnsureLoaded()
    {
        if (_contexts is not null) return;
        _contexts = new Dictionary<string, Context>(StringComparer.Ordinal);
        if (Path is null) return;
        var (contexts, problem) = ReadFile(Path);
        if (contexts is null)
        {
            _status = problem ?? "no file yet: choices are measured on first use and saved";
            return;
        }
        _contexts = contexts;
        var choices = contexts.Values.Sum(c => c.Shapes.Count);
        _status = string.Create(CultureInfo.InvariantCulture, $"read {choices} choice(s) in {contexts.Count} context(s)");
    }

    // Merges the file's current contexts (another process may have saved since this one read it) with
    // this process's, this process's own context winning, and replaces the file in one rename.
    private void Save(string context)
    {
        var (onDisk, _) = ReadFile(Path!);
        var merged = onDisk ?? new Dictionary<string, Context>(StringComparer.Ordinal);
        foreach (var (key, c) in _contexts!)
        {
            if (!merged.TryGetValue(key, out var target)) merged[key] = target = new Context();
            foreach (var (shape, e) in c.Shapes)
                if (key == context || !target.Shapes.ContainsKey(shape))
                    target.Shapes[shape] = e;
            if (c.Used > target.Used) target.Used = c.Used;
        }
        var kept = merged.OrderByDescending(p => p.Value.Used).Take(MaxContexts).ToList();
        var temporary = $"{Path}.{Environment.ProcessId}.{Environment.CurrentManagedThreadId}.tmp";
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path!)!);
            File.WriteAllBytes(temporary, Serialize(kept));
            File.Move(temporary, Path!, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _status = $"could not save ({e.Message}); choices are measured again in the next process";
            try { File.Delete(temporary); }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException) { }
        }
    }

    private static byte[] Serialize(List<KeyValuePair<string, Context>> contexts)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("format", Format);
            w.WriteStartArray("contexts");
            foreach (var (key, c) in contexts)
            {
                w.WriteStartObject();
                w.WriteString("key", key);
                w.WriteString("used", c.Used);
                w.WriteStartObject("shapes");
                foreach (var (shape, e) in c.Shapes.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    w.WriteStartObject(shape);
                    w.WriteString("route", CpuConvolution.ShapeRouteName(e.Route));
                    if (e.ChannelsLastSeconds is { } cl) w.WriteNumber("channelsLastSeconds", cl);
                    if (e.PlainSeconds is { } plain) w.WriteNumber("plainSeconds", plain);
                    if (e.DepthSplitSeconds is { } depthSplit) w.WriteNumber("depthSplitSeconds", depthSplit);
                    if (e.DepthBatchedSeconds is { } depthBatched) w.WriteNumber("depthBatchedSeconds", depthBatched);
                    w.WriteString("reason", e.Reason);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>The file's contexts, or null and why not (null, null: there is no file).</summary>
    private static (Dictionary<string, Context>? Contexts, string? Problem) ReadFile(string path)
    {
        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) return (null, null);
            if (info.Length > MaxFileBytes)
                return (null, $"ignored the file: {info.Length:N0} bytes is more than this cache ever writes ({MaxFileBytes:N0}); it is rebuilt from this process's checks");
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (null, $"could not read the file ({e.Message}); choices are measured on first use");
        }
        try
        {
            return (Parse(bytes), null);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or ArgumentException)
        {
            return (null, $"ignored the file, it is not a valid route cache ({e.Message}); it is rebuilt from this process's checks");
        }
    }

    private static Dictionary<string, Context> Parse(byte[] bytes)
    {
        using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 8 });
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("the top level is not an object");
        if (!root.TryGetProperty("format", out var format) || format.ValueKind != JsonValueKind.Number || format.GetInt32() != Format)
            throw new FormatException($"'format' must be {Format}");
        if (!root.TryGetProperty("contexts", out var list) || list.ValueKind != JsonValueKind.Array)
            throw new FormatException("'contexts' must be a list");
        var contexts = new Dictionary<string, Context>(StringComparer.Ordinal);
        foreach (var item in list.EnumerateArray().Take(MaxContexts))
        {
            var key = Text(item, "key");
            var context = new Context { Used = item.TryGetProperty("used", out var used) && used.TryGetDateTime(out var u) ? u : DateTime.MinValue };
            if (!item.TryGetProperty("shapes", out var shapes) || shapes.ValueKind != JsonValueKind.Object)
                throw new FormatException("a context's 'shapes' must be an object");
            foreach (var shape in shapes.EnumerateObject().Take(MaxShapes))
            {
                if (shape.Name.Length > MaxKeyLength || shape.Value.ValueKind != JsonValueKind.Object)
                    throw new FormatException("a shape entry must be an object under a key of at most 1000 characters");
                context.Shapes[shape.Name] = new CachedRoute(
                    ParseRoute(Text(shape.Value, "route")),
                    Seconds(shape.Value, "channelsLastSeconds"),
                    Seconds(shape.Value, "plainSeconds"),
                    Text(shape.Value, "reason"),
                    Seconds(shape.Value, "depthSplitSeconds"),
                    Seconds(shape.Value, "depthBatchedSeconds"));
            }
            contexts[key] = context;
        }
        return contexts;
    }

    private static string Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: <= MaxKeyLength } s
            ? s
            : throw new FormatException($"'{name}' must be a text of at most {MaxKeyLength} characters");

    private static double? Seconds(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v)) return null;
        return v.ValueKind == JsonValueKind.Number && v.GetDouble() is var s && s >= 0 && double.IsFinite(s)
            ? s
            : throw new FormatException($"'{name}' must be a number of seconds");
    }

    private static CpuConvolution.ShapeRoute ParseRoute(string name)
    {
        foreach (var route in Enum.GetValues<CpuConvolution.ShapeRoute>())
            if (CpuConvolution.ShapeRouteName(route) == name) return route;
        throw new FormatException($"'{name}' is not a route (channels_last, plain, depth_split, depth_batched or float64)");
    }

    /// <summary>The context part of a key: what must be the same for a saved choice to hold.</summary>
    internal static string ContextKey(string cpu, string flags, string libtorch, string isa, int threads, string route) =>
        string.Create(CultureInfo.InvariantCulture, $"cpu {cpu}; flags {Digest(flags)}; libtorch {libtorch}; isa {isa}; threads {threads}; route {route}");

    private static string Digest(string text) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16].ToLowerInvariant();

    private sealed class Context
    {
        public Dictionary<string, CachedRoute> Shapes { get; } = new(StringComparer.Ordinal);

        public DateTime Used { get; set; }
    }
}

/// <summary>One saved choice: the route, the timings it was chosen by (seconds, where both were timed) and why.</summary>
internal readonly record struct CachedRoute(CpuConvolution.ShapeRoute Route, double? ChannelsLastSeconds, double? PlainSeconds, string Reason, double? DepthSplitSeconds = null,
                                            double? DepthBatchedSeconds = null);
