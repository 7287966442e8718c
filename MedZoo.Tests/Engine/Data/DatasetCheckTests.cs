using System.Collections.Concurrent;
using MedZoo.Engine.Data;

namespace MedZoo.Tests.Engine.Data;

public class DatasetCheckTests
{
    [Fact]
    public void Run_Progress_IsReportedOncePerSubjectWithTheTotal()
    {
        var reports = new ConcurrentBag<(int Done, int Total)>();

        var report = DatasetCheck.Run(new DatasetOptions { SyntheticSubjects = 4, SyntheticSize = [16, 16, 16] },
            progress: (done, total) => reports.Add((done, total)));

        Assert.True(report.Ok, string.Join("; ", report.Errors));
        Assert.Equal([1, 2, 3, 4], reports.Select(r => r.Done).Order());
        Assert.All(reports, r => Assert.Equal(4, r.Total));
    }
}
