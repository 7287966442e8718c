using MedZoo.Engine.Networks.Blocks;
using static TorchSharp.torch;

namespace MedZoo.Tests.Engine.Networks.Blocks;

public sealed class ConvolutionRouteCacheTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("medzoo-conv-cache-").FullName;

    private string File1 => Path.Combine(_directory, "routes.json");

    private static string Context(int threads = 2, string libtorch = "2.10.0", string flags = "sse avx2 avx512f") =>
        ConvolutionRouteCache.ContextKey("AMD EPYC", flags, libtorch, "default", threads, "channels_last");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Put_ThenANewCacheOnTheSameFile_ReturnsTheSameChoice()
    {
        var first = new ConvolutionRouteCache(File1);
        first.Put(Context(), "convolution a +grad", new CachedRoute(CpuConvolution.ShapeRoute.Plain, 0.012, 0.010, "timed"));
        first.Put(Context(), "convolution b", new CachedRoute(CpuConvolution.ShapeRoute.Float64, null, null, "both wrong"));

        var second = new ConvolutionRouteCache(File1); // as the next process would
        Assert.True(second.TryGet(Context(), "convolution a +grad", out var a));
        Assert.True(second.TryGet(Context(), "convolution b", out var b));
        Assert.Equal(new CachedRoute(CpuConvolution.ShapeRoute.Plain, 0.012, 0.010, "timed"), a);
        Assert.Equal(new CachedRoute(CpuConvolution.ShapeRoute.Float64, null, null, "both wrong"), b);
        Assert.Equal(2, second.Hits);
        Assert.StartsWith("read 2 choice(s) in 1 context(s)", second.Status);
        Assert.Empty(Directory.GetFiles(_directory, "*.tmp")); // written through a temporary file, renamed over
    }

    [Theory]
    [InlineData(4, "2.10.0", "sse avx2 avx512f")] // another thread count
    [InlineData(2, "2.11.0", "sse avx2 avx512f")] // another libtorch
    [InlineData(2, "2.10.0", "sse avx2")]         // another CPU's instruction sets
    public void TryGet_AnyPartOfTheContextChanged_Misses(int threads, string libtorch, string flags)
    {
        new ConvolutionRouteCache(File1).Put(Context(), "convolution a", new CachedRoute(CpuConvolution.ShapeRoute.Plain, 0.2, 0.1, "timed"));

        var other = new ConvolutionRouteCache(File1);
        Assert.False(other.TryGet(Context(threads, libtorch, flags), "convolution a", out _));
        Assert.Equal(0, other.Hits);
        Assert.True(other.TryGet(Context(), "convolution a", out _)); // the old context's choice is still there for its own machine
    }

    [Theory]
    [InlineData("{\"format\": 3, \"contexts\": [")]                                    // truncated
    [InlineData("not json at all")]
    [InlineData("[1, 2, 3]")]
    [InlineData("{\"format\": 7, \"contexts\": []}")]                                  // a future format
    [InlineData("{\"format\": 1, \"contexts\": []}")]                                  // before the depth-split route: its choices never weighed it
    [InlineData("{\"format\": 2, \"contexts\": []}")]                                  // before the depth-batched route
    [InlineData("{\"format\": 3, \"contexts\": [{\"key\": \"k\", \"shapes\": {\"s\": {\"route\": \"gpu_magic\", \"reason\": \"r\"}}}]}")]
    [InlineData("{\"format\": 3, \"contexts\": [{\"key\": \"k\", \"shapes\": {\"s\": {\"route\": \"plain\", \"plainSeconds\": -1, \"reason\": \"r\"}}}]}")]
    [InlineData("{\"format\": 3, \"contexts\": [{\"key\": 5, \"shapes\": {}}]}")]
    public void Status_CorruptOrHostileFile_IsIgnoredWithAReasonAndRebuilt(string content)
    {
        File.WriteAllText(File1, content);
        var cache = new ConvolutionRouteCache(File1);

        Assert.False(cache.TryGet("k", "s", out _));
        Assert.Contains("ignored the file", cache.Status);
        Assert.Contains("rebuilt", cache.Status);
        cache.Put(Context(), "convolution a", new CachedRoute(CpuConvolution.ShapeRoute.ChannelsLast, 0.1, 0.2, "timed"));
        var next = new ConvolutionRouteCache(File1);
        Assert.True(next.TryGet(Context(), "convolution a", out var entry));
        Assert.Equal(CpuConvolution.ShapeRoute.ChannelsLast, entry.Route);
    }

    [Fact]
    public void Status_FileLargerThanTheCacheEverWrites_IsIgnoredWithoutReadingIt()
    {
        using (var f = File.Create(File1)) f.SetLength(ConvolutionRouteCache.MaxFileBytes + 1L);
        var cache = new ConvolutionRouteCache(File1);
        Assert.False(cache.TryGet(Context(), "convolution a", out _));
        Assert.Contains("more than this cache ever writes", cache.Status);
    }

    [Fact]
    public void Put_TwoProcessesOnOneFile_KeepEachOthersChoices()
    {
        var a = new ConvolutionRouteCache(File1);
        var b = new ConvolutionRouteCache(File1);
        Assert.False(a.TryGet(Context(), "x", out _)); // both read the (absent) file before either saves
        Assert.False(b.TryGet(Context(4), "x", out _));
        a.Put(Context(), "convolution a", new CachedRoute(CpuConvolution.ShapeRoute.Plain, 0.2, 0.1, "timed"));
        b.Put(Context(4), "convolution b", new CachedRoute(CpuConvolution.ShapeRoute.ChannelsLast, 0.1, 0.2, "timed"));

        var c = new ConvolutionRouteCache(File1);
        Assert.True(c.TryGet(Context(), "convolution a", out _));
        Assert.True(c.TryGet(Context(4), "convolution b", out _));
    }

    [Fact]
    public void Put_DirectoryCannotBeCreated_SaysSoAndKeepsWorking()
    {
        File.WriteAllText(Path.Combine(_directory, "blocker"), "a file where the cache wants a directory");
        var cache = new ConvolutionRouteCache(Path.Combine(_directory, "blocker", "routes.json"));
        cache.Put(Context(), "convolution a", new CachedRoute(CpuConvolution.ShapeRoute.Plain, 0.2, 0.1, "timed"));
        Assert.Contains("could not save", cache.Status);
        Assert.True(cache.TryGet(Context(), "convolution a", out _)); // still known in this process
    }

    [Fact]
    public void Off_NeverReadsOrWrites()
    {
        var cache = new ConvolutionRouteCache(null);
        cache.Put(Context(), "convolution a", new CachedRoute(CpuConvolution.ShapeRoute.Plain, 0.2, 0.1, "timed"));
        Assert.Equal("off", cache.Status);
        Assert.Empty(Directory.GetFiles(_directory));
    }
}

/// <summary>The route chooser as a second process sees it: choices come from the cache, unchecked, and compute the same numbers.</summary>
public sealed class CpuConvolutionRoutingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("medzoo-conv-routing-").FullName;
    private readonly ConvolutionRouteCache _saved = CpuConvolution.RouteCache;

    public void Dispose()
    {
        CpuConvolution.RouteCache = _saved;
        Directory.Delete(_directory, recursive: true);
    }

    [SkippableFact]
    public void Apply_SecondProcessWithTheCache_UsesTheSavedChoiceWithoutCheckingAgain()
    {
        Skip.IfNot(CpuConvolution.Route is CpuConvolutionRoute.ChannelsLast or CpuConvolutionRoute.Batched
                   && Environment.GetEnvironmentVariable(CpuConvolution.Variable) is null, "shapes are checked only on the automatic routes");
        var file = Path.Combine(_directory, "routes.json");
        using var scope = NewDisposeScope();
        manual_seed(21);
        // Sizes no other test uses, so that this process has not routed them yet.
        var conv = new Convolution3d(3, 13, 3, padding: 1);
        var x = randn([2, 3, 7, 5, 6]).requires_grad_(true);

        CpuConvolution.RouteCache = new ConvolutionRouteCache(file);
        CpuConvolution.ForgetShapes();
        var checkedBefore = CpuConvolution.CheckedShapes;
        ConvolutionChoice first;
        using (var log = ConvolutionRunLog.Begin())
        {
            conv.forward(x).square().sum().backward();
            first = Assert.Single(log.Choices);
        }
        Assert.Equal(ConvolutionChoiceSource.Checked, first.Source);
        Assert.Equal(checkedBefore + 1, CpuConvolution.CheckedShapes);
        Assert.True(File.Exists(file));

        CpuConvolution.ForgetShapes(); // a new process: nothing routed yet, the same cache file
        CpuConvolution.RouteCache = new ConvolutionRouteCache(file);
        ConvolutionChoice second;
        var grad = x.grad!.clone();
        x.grad!.zero_();
        using (var log = ConvolutionRunLog.Begin())
        {
            conv.forward(x).square().sum().backward();
            second = Assert.Single(log.Choices);
        }
        Assert.Equal(ConvolutionChoiceSource.Cache, second.Source);
        Assert.Equal(first.Route, second.Route);
        Assert.Equal(first.Reason, second.Reason);
        Assert.Equal(checkedBefore + 1, CpuConvolution.CheckedShapes); // not checked again
        Assert.Equal(1, CpuConvolution.RouteCache.Hits);
        Assert.True(x.grad!.allclose(grad, rtol: 1e-5, atol: 1e-6));
    }

    // Whichever route the measurement picks must compute what float64 computes, forward and both gradients.
    [SkippableTheory]
    [InlineData(2, 4, 8, 3, 1, 1, false, 8)]
    [InlineData(1, 16, 16, 5, 1, 2, false, 8)]
    [InlineData(2, 32, 4, 1, 1, 0, false, 8)]
    [InlineData(1, 16, 32, 2, 2, 0, false, 8)]
    [InlineData(2, 32, 16, 2, 2, 0, true, 4)]
    [InlineData(1, 32, 4, 5, 1, 2, false, 8)]    // a last layer to 4 classes: the depth-split route fits and is timed too
    [InlineData(2, 6, 3, 3, 1, 1, false, 5)]     // depth-split at batch 2
    [InlineData(1, 16, 16, 3, 1, 1, false, 12)]  // one sample: the depth-batched route fits and is timed too
    [InlineData(1, 8, 4, 3, 1, 1, false, 7)]     // one sample, few outputs: all four routes, an odd depth
    public void VerifyShape_RouteChosenByMeasurement_MatchesFloat64(int batch, int cin, int cout, int k, int stride, int padding, bool transposed, int size)
    {
        Skip.IfNot(CpuConvolution.Route is CpuConvolutionRoute.ChannelsLast or CpuConvolutionRoute.Batched, "shapes are checked only on the automatic routes");
        using var scope = NewDisposeScope();
        var spec = new ConvolutionSpec(transposed, stride, padding, outputPadding: 0, dilation: 1, groups: 1);
        long[] input = [batch, cin, size, size, size];
        long[] weight = transposed ? [cin, cout, k, k, k] : [cout, cin, k, k, k];
        foreach (var channelsLastInput in new[] { false, true })
        {
            var verdict = CpuConvolution.VerifyShape(input, weight, spec, gradients: true, channelsLastFirst: CpuConvolution.Route == CpuConvolutionRoute.ChannelsLast, channelsLastInput);
            double?[] timings = [verdict.ChannelsLastSeconds, verdict.PlainSeconds, verdict.DepthSplitSeconds, verdict.DepthBatchedSeconds];
            if (timings.Count(t => t is not null) >= 2)
            {
                Assert.All(timings.Where(t => t is not null), t => Assert.True(t > 0));
                // The fastest timed route, unless channels-last was timed and the fastest beat it by less than the margin.
                var routes = new[] { CpuConvolution.ShapeRoute.ChannelsLast, CpuConvolution.ShapeRoute.Plain, CpuConvolution.ShapeRoute.DepthSplit, CpuConvolution.ShapeRoute.DepthBatched };
                var fastest = Enumerable.Range(0, routes.Length).Where(i => timings[i] is not null).MinBy(i => timings[i]!.Value);
                var expected = timings[0] is { } cl && fastest != 0 && timings[fastest]!.Value >= cl * (1 - CpuConvolution.PlainMargin) ? routes[0] : routes[fastest];
                Assert.Equal(expected, verdict.Route);
                Assert.Contains("timed here", verdict.Reason);
            }
            manual_seed(22);
            var x = randn(input);
            if (channelsLastInput) x = CpuConvolution.ToChannelsLast(x);
            Float64Reference.AssertMatches((xi, wi, bi) => CpuConvolution.Run(verdict.Route, xi, wi, bi, spec), x, randn(weight) * 0.1, null, spec);
        }
    }

    // The depth-split route computes what float64 computes, forward and both gradients, whether or not a measurement picks it.
    [SkippableTheory]
    [InlineData(1, 32, 4, 5, 2, new[] { 6, 7, 5 }, false, true)]
    [InlineData(2, 6, 3, 3, 1, new[] { 5, 5, 5 }, true, false)]
    [InlineData(1, 8, 2, 3, 0, new[] { 6, 4, 5 }, false, true)]
    [InlineData(2, 5, 7, 2, 1, new[] { 3, 4, 3 }, true, true)]
    public void DepthSplit_MatchesFloat64(int batch, int cin, int cout, int k, int padding, int[] size, bool channelsLastInput, bool withBias)
    {
        Skip.IfNot(CpuConvolution.Route == CpuConvolutionRoute.ChannelsLast, "the depth-split route runs on channels-last data, which this process's probe did not find exact");
        using var scope = NewDisposeScope();
        var spec = new ConvolutionSpec(false, 1, padding, outputPadding: 0, dilation: 1, groups: 1);
        manual_seed(5);
        var x = randn([batch, cin, size[0], size[1], size[2]]);
        if (channelsLastInput) x = CpuConvolution.ToChannelsLast(x);
        var w = randn([cout, cin, k, k, k]) * 0.1;
        var b = withBias ? randn([cout]) : null;
        Float64Reference.AssertMatches((xi, wi, bi) => CpuConvolution.Run(CpuConvolution.ShapeRoute.DepthSplit, xi, wi, bi, spec), x, w, b, spec);
    }

    // The depth-batched route computes what float64 computes, forward and both gradients, for even and odd depths.
    [SkippableTheory]
    [InlineData(16, 16, 3, 1, new[] { 12, 12, 12 }, false, false)]
    [InlineData(8, 8, 3, 1, new[] { 7, 9, 6 }, true, true)]     // odd depth: the slabs share a row
    [InlineData(4, 6, 5, 2, new[] { 3, 5, 4 }, false, true)]    // three rows of depth
    [InlineData(6, 5, 2, 0, new[] { 4, 3, 3 }, true, false)]    // an even kernel without padding
    [InlineData(5, 7, 3, 0, new[] { 4, 6, 5 }, false, true)]    // two output rows: one per slab
    public void DepthBatched_MatchesFloat64(int cin, int cout, int k, int padding, int[] size, bool channelsLastInput, bool withBias)
    {
        Skip.IfNot(CpuConvolution.Route == CpuConvolutionRoute.ChannelsLast, "the depth-batched route runs on channels-last data, which this process's probe did not find exact");
        using var scope = NewDisposeScope();
        var spec = new ConvolutionSpec(false, 1, padding, outputPadding: 0, dilation: 1, groups: 1);
        Assert.True(CpuConvolution.DepthBatchedFits([1, cin, size[0], size[1], size[2]], [cout, cin, k, k, k], spec));
        manual_seed(6);
        var x = randn([1, cin, size[0], size[1], size[2]]);
        if (channelsLastInput) x = CpuConvolution.ToChannelsLast(x);
        var w = randn([cout, cin, k, k, k]) * 0.1;
        var b = withBias ? randn([cout]) : null;
        Float64Reference.AssertMatches((xi, wi, bi) => CpuConvolution.Run(CpuConvolution.ShapeRoute.DepthBatched, xi, wi, bi, spec), x, w, b, spec);
    }

    [SkippableFact]
    public void DepthBatchedFits_OnlyOneSampleStrideOneUngroupedUndilatedWithTwoRowsOfOutput()
    {
        Skip.IfNot(CpuConvolution.Route == CpuConvolutionRoute.ChannelsLast, "the depth-batched route runs on channels-last data, which this process's probe did not find exact");
        var padded = new ConvolutionSpec(false, 1, 1, 0, 1, 1);
        Assert.True(CpuConvolution.DepthBatchedFits([1, 16, 32, 32, 32], [16, 16, 3, 3, 3], padded));   // UNET3D's 16 → 16 layer at 32³
        Assert.False(CpuConvolution.DepthBatchedFits([2, 16, 32, 32, 32], [16, 16, 3, 3, 3], padded));  // already a batch
        Assert.False(CpuConvolution.DepthBatchedFits([1, 1, 32, 32, 32], [16, 1, 3, 3, 3], padded));    // one input channel
        Assert.False(CpuConvolution.DepthBatchedFits([1, 8, 8, 8, 8], [4, 8, 1, 1, 1], new ConvolutionSpec(false, 1, 0, 0, 1, 1))); // 1×1×1: no context to share
        Assert.False(CpuConvolution.DepthBatchedFits([1, 8, 8, 8, 8], [16, 8, 2, 2, 2], new ConvolutionSpec(false, 2, 0, 0, 1, 1))); // strided
        Assert.False(CpuConvolution.DepthBatchedFits([1, 8, 8, 8, 8], [8, 16, 2, 2, 2], new ConvolutionSpec(true, 2, 0, 0, 1, 1)));  // transposed
        Assert.False(CpuConvolution.DepthBatchedFits([1, 8, 8, 8, 8], [4, 4, 3, 3, 3], new ConvolutionSpec(false, 1, 1, 0, 1, 2))); // grouped
        Assert.False(CpuConvolution.DepthBatchedFits([1, 8, 8, 8, 8], [4, 8, 3, 3, 3], new ConvolutionSpec(false, 1, 2, 0, 2, 1))); // dilated
        Assert.False(CpuConvolution.DepthBatchedFits([1, 8, 3, 8, 8], [4, 8, 3, 3, 3], new ConvolutionSpec(false, 1, 0, 0, 1, 1))); // one output row
    }

    [SkippableFact]
    public void DepthSplitFits_OnlyFewOutputChannelsStrideOneUngroupedUndilated()
    {
        Skip.IfNot(CpuConvolution.Route == CpuConvolutionRoute.ChannelsLast, "the depth-split route runs on channels-last data, which this process's probe did not find exact");
        var padded = new ConvolutionSpec(false, 1, 2, 0, 1, 1);
        Assert.True(CpuConvolution.DepthSplitFits([1, 32, 64, 64, 64], [4, 32, 5, 5, 5], padded));     // VNET's last layer to 4 classes
        Assert.False(CpuConvolution.DepthSplitFits([1, 32, 64, 64, 64], [32, 32, 5, 5, 5], padded));   // a full vector block of outputs
        Assert.False(CpuConvolution.DepthSplitFits([1, 1, 8, 8, 8], [4, 1, 5, 5, 5], padded));         // one input channel
        Assert.False(CpuConvolution.DepthSplitFits([1, 8, 8, 8, 8], [4, 8, 1, 1, 1], new ConvolutionSpec(false, 1, 0, 0, 1, 1))); // 1×1×1: nothing to split
        Assert.False(CpuConvolution.DepthSplitFits([1, 8, 8, 8, 8], [4, 8, 2, 2, 2], new ConvolutionSpec(false, 2, 0, 0, 1, 1))); // strided
        Assert.False(CpuConvolution.DepthSplitFits([1, 8, 8, 8, 8], [8, 4, 2, 2, 2], new ConvolutionSpec(true, 2, 0, 0, 1, 1)));  // transposed
        Assert.False(CpuConvolution.DepthSplitFits([1, 8, 8, 8, 8], [4, 4, 3, 3, 3], new ConvolutionSpec(false, 1, 1, 0, 1, 2))); // grouped
        Assert.False(CpuConvolution.DepthSplitFits([1, 8, 8, 8, 8], [4, 8, 3, 3, 3], new ConvolutionSpec(false, 1, 2, 0, 2, 1))); // dilated
        Assert.False(CpuConvolution.DepthSplitFits([1, 8, 2, 2, 2], [4, 8, 5, 5, 5], new ConvolutionSpec(false, 1, 0, 0, 1, 1))); // no output voxel
    }
}
