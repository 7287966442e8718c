using MedZoo.Web.Cli;

namespace MedZoo.Tests.Web.Cli;

/// <summary><c>medzoo worker</c>'s command line: wrong devices, queues and a missing database are refused in words before anything starts.</summary>
public sealed class WorkerVerbTests
{
    private static (int Code, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = CliApp.Run(args, output, error);
        return (code, error.ToString());
    }

    [Theory]
    [InlineData(new[] { "worker", "--devices", "cpu", "--queues", "gpu" }, "--queues gpu: this worker has no gpu device to train its runs on (--devices cpu)")]
    [InlineData(new[] { "worker", "--devices", "tpu" }, "--devices: 'tpu' is not a device; use cpu or cuda:N (e.g. cuda:0)")]
    [InlineData(new[] { "worker", "--devices", "cuda:0,cuda:0" }, "--devices names a device twice: cuda:0,cuda:0")]
    [InlineData(new[] { "worker", "--queues", "fast" }, "--queues: 'fast' is not a queue; use gpu or cpu")]
    [InlineData(new[] { "worker", "--runs-per-device", "0" }, "--runs-per-device must be at least 1, got 0")]
    public void Run_WrongOption_ExitsWithUsageErrorNamingIt(string[] args, string message)
    {
        var (code, error) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
    }

    [SkippableFact]
    public void Run_NoDatabaseConfigured_SaysWhatToSet()
    {
        Skip.If(Environment.GetEnvironmentVariable("MEDZOO_POSTGRES") is { Length: > 0 }, "MEDZOO_POSTGRES is set in this environment");
        var (code, error) = Run("worker", "--devices", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("MedZoo:Cluster:Postgres is not set", error);
        Assert.Contains("MEDZOO_POSTGRES", error);
    }
}
