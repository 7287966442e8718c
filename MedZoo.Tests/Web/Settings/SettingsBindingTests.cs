using System.Reflection;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Accounts;
using MedZoo.Web.Datasets;
using MedZoo.Web.Live;
using MedZoo.Web.Reviews;
using MedZoo.Web.Runs;
using MedZoo.Web.Settings;
using Microsoft.Extensions.Options;

namespace MedZoo.Tests.Web.Settings;

/// <summary>Every settings class of the dashboard is bound one way and checked at start: a bad value stops the server, naming the setting.</summary>
public sealed class SettingsBindingTests
{
    /// <summary>One bad value per settings class: the class, the setting, its value, and whether the test server configures its admin.</summary>
    public static TheoryData<Type, string, string, bool> BadSettings => new()
    {
        { typeof(DataOptions), "MedZoo:MaxJournalLineBytes", "10", true },
        { typeof(RunsOptions), "MedZoo:Runs:MaxConcurrentRunsPerDevice", "0", true },
        { typeof(LiveOptions), "MedZoo:Live:StepBacklog", "0", true },
        { typeof(AdminOptions), "MedZoo:Admin:Password", "a-password-without-a-name", false },
        { typeof(AccountSecurityOptions), "MedZoo:Accounts:FreeFailures", "-1", true },
        { typeof(DataAccessOptions), "MedZoo:Data:MemoryBudgetBytes", "-1", true },
        { typeof(ReviewOptions), "MedZoo:Review:MaxChannels", "0", true },
        { typeof(ClusterOptions), "MedZoo:Cluster:Enabled", "true", true }, // without MedZoo:Cluster:Postgres
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task Start_BadSetting_StopsTheServerNamingIt(Type settings, string key, string value, bool configureAdmin)
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor(), configureAdmin);
        app.Settings[key] = value;

        var e = Assert.ThrowsAny<Exception>(() => app.Start());

        var chain = Chain(e).ToList();
        var failure = chain.OfType<OptionsValidationException>().FirstOrDefault();
        Assert.True(failure is not null, $"{settings.Name}: the start failed without an options validation error: {string.Join(" <- ", chain.Select(x => $"{x.GetType().Name}: {x.Message}"))}");
        Assert.Equal(settings, failure!.OptionsType);
        // The setting an admin has to fix, by its configuration key
        // (AdminOptions names the missing one, UserName; cluster mode names the connection string it lacks.)
        var named = settings == typeof(AdminOptions) ? "MedZoo:Admin:UserName" : settings == typeof(ClusterOptions) ? "MedZoo:Cluster:Postgres" : key;
        Assert.Contains(named, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_GoodSettings_Starts()
    {
        using var folder = MedZooAppFactory.NewDataFolder();
        await using var app = new MedZooAppFactory(folder.Path, new ScriptedRunExecutor());
        foreach (var (key, value) in new Dictionary<string, string>
                 {
                     ["MedZoo:Live:StepBacklog"] = "1", ["MedZoo:Runs:MaxConcurrentRunsPerDevice"] = "2", ["MedZoo:Review:MaxChannels"] = "1",
                 })
            app.Settings[key] = value;
        Assert.NotNull(app.Start());
        var live = (IOptions<LiveOptions>)app.Services.GetService(typeof(IOptions<LiveOptions>))!;
        Assert.Equal(1, live.Value.StepBacklog);
    }

    [Fact]
    public void BadSettings_CoverEverySettingsClass()
    {
        // A settings class is one with a configuration section; each must be in the table above (and so bound and checked at start).
        var classes = typeof(RunsOptions).Assembly.GetTypes()
            .Where(t => t.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true })
            .OrderBy(t => t.Name).ToList();
        var covered = BadSettings.Select(row => (Type)row[0]).OrderBy(t => t.Name).ToList();
        Assert.Equal(classes, covered);
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        var pending = new Stack<Exception>([e]);
        while (pending.TryPop(out var x))
        {
            yield return x;
            if (x is AggregateException a) foreach (var i in a.InnerExceptions) pending.Push(i);
            else if (x.InnerException is { } inner) pending.Push(inner);
        }
    }
}
