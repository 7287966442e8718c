using MedZoo.Engine.Data;

namespace MedZoo.Tests.Engine.Data;

public sealed class SubjectLoadingTests
{
    private static DatasetScan Scan(int subjects) => new("test", null, ["M"], LabelMapping.Identity(["background", "thing"]),
        Enumerable.Range(0, subjects).Select(i => new SubjectSource($"s{i}", [], null, null, i)).ToArray(), [], []);

    [Fact]
    public void Load_SomeSubjectsFail_ResultsAndErrorsInSubjectOrderAndEverySubjectDone()
    {
        var done = 0;
        var (results, errors) = SubjectLoading.Load(Scan(7), new DatasetOptions { LoadThreads = 3 }, CancellationToken.None,
            s => s.Index % 3 == 1 ? throw new DatasetException([$"{s.Id}: a", $"{s.Id}: b"]) : s.Id,
            _ => Interlocked.Increment(ref done));

        Assert.Equal(new string?[] { "s0", null, "s2", "s3", null, "s5", "s6" }.AsEnumerable(), results);
        Assert.Equal(["s1: a", "s1: b", "s4: a", "s4: b"], errors);
        Assert.Equal(7, done);
    }

    [Fact]
    public void Load_TwoThreads_RunsTwoSubjectsAtOnceAndNoMore()
    {
        var inside = 0;
        var most = 0;
        var (results, errors) = SubjectLoading.Load(Scan(6), new DatasetOptions { LoadThreads = 2 }, CancellationToken.None, s =>
        {
            var now = Interlocked.Increment(ref inside);
            InterlockedMax(ref most, now);
            // The first two subjects wait for each other: they can only both finish if two load at once.
            if (s.Index < 2) Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref most) >= 2, TimeSpan.FromSeconds(30)), "two subjects never loaded at once");
            Interlocked.Decrement(ref inside);
            return s.Id;
        });
        Assert.Empty(errors);
        Assert.All(results, Assert.NotNull);
        Assert.Equal(2, most);
    }

    [Fact]
    public void Load_OtherException_Propagates()
    {
        var e = Assert.Throws<AggregateException>(() => SubjectLoading.Load<string>(Scan(2), new DatasetOptions(), CancellationToken.None,
            _ => throw new InvalidOperationException("a bug")));
        Assert.IsType<InvalidOperationException>(Assert.Single(e.InnerExceptions.DistinctBy(x => x.GetType())));
    }

    [Theory]
    [InlineData(3, 3)]
    [InlineData(0, -1)]
    public void Threads_LoadThreads_OrOnePerProcessor(int loadThreads, int expected) =>
        Assert.Equal(expected < 0 ? Environment.ProcessorCount : expected, SubjectLoading.Threads(new DatasetOptions { LoadThreads = loadThreads }));

    private static void InterlockedMax(ref int target, int value)
    {
        for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
            if (Interlocked.CompareExchange(ref target, value, seen) == seen) return;
    }
}
