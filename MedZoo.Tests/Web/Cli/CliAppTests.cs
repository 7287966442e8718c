using System.Diagnostics;
using MedZoo.Tests.TestSupport;
using MedZoo.Web.Cli;
using MedZoo.Web.Settings;
using Microsoft.Extensions.Configuration;

namespace MedZoo.Tests.Web.Cli;

public class CliAppTests
{
    [Theory]
    [InlineData("")]
    [InlineData("serve")]
    [InlineData("serve --urls http://127.0.0.1:5001")]
    [InlineData("--urls http://127.0.0.1:5001")]
    [InlineData("--urls=http://127.0.0.1:5001 --environment Development")]
    [InlineData("urls=http://127.0.0.1:5001")]
    public void IsCliInvocation_NoVerbOrServerOptionsOnly_StartsTheServer(string commandLine) =>
        Assert.False(CliApp.IsCliInvocation(Split(commandLine)));

    [Theory]
    [InlineData("frobnicate --x 1")]
    [InlineData("export")]
    [InlineData("trian")]
    [InlineData("--urls http://127.0.0.1:5001 frobnicate")]
    [InlineData("train --epochs 1")]
    [InlineData("help")]
    [InlineData("--help")]
    [InlineData("--version")]
    [InlineData("[suggest:2] tr")]
    [InlineData("serve --help")]
    [InlineData("serve -h")]
    [InlineData("serve --urls http://127.0.0.1:5001 -?")]
    [InlineData("--urls http://127.0.0.1:5001 --help")]
    public void IsCliInvocation_AnyVerbKnownOrNot_IsNotTheServer(string commandLine) =>
        Assert.True(CliApp.IsCliInvocation(Split(commandLine)));

    private static string[] Split(string commandLine) => commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Run_UnknownVerb_SaysSoListsTheVerbsAndExits2()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var code = CliApp.Run(["frobnicate", "--x", "1"], output, error);

        Assert.Equal(2, code);
        var text = error.ToString();
        Assert.Contains("unknown verb 'frobnicate'", text);
        Assert.DoesNotContain("did you mean", text);
        foreach (var verb in CliApp.Verbs) Assert.Contains($"  {verb.Name}", text);
        Assert.Contains("serve", text);
        Assert.Equal("", output.ToString());
    }

    [Theory]
    [InlineData("trian", "train")]
    [InlineData("infr", "infer")]
    [InlineData("modles", "models")]
    [InlineData("dataset", "dataset")]
    [InlineData("datasets", "dataset")]
    [InlineData("serv", "serve")]
    [InlineData("inspekt", "inspect")]
    [InlineData("exprot", "export")]
    [InlineData("imprt", "import")]
    public void ClosestVerb_Misspelt_SuggestsTheVerb(string word, string expected) =>
        Assert.Equal(expected, CliApp.ClosestVerb(word));

    [Theory]
    [InlineData("publish")]
    [InlineData("frobnicate")]
    [InlineData("x")]
    public void ClosestVerb_NothingClose_IsNull(string word) =>
        Assert.Null(CliApp.ClosestVerb(word));

    [Fact]
    public void Run_MisspeltVerb_SuggestsTheClosest()
    {
        var error = new StringWriter();

        var code = CliApp.Run(["trian", "--epochs", "1"], new StringWriter(), error);

        Assert.Equal(2, code);
        Assert.Contains("unknown verb 'trian'; did you mean 'train'?", error.ToString());
    }

    [Fact]
    public void Run_StrayWordAfterServerOptions_NamesTheWord()
    {
        var error = new StringWriter();

        var code = CliApp.Run(["--urls", "http://127.0.0.1:5001", "exprot"], new StringWriter(), error);

        Assert.Equal(2, code);
        Assert.Contains("unknown verb 'exprot'", error.ToString());
    }

    /// <summary>The executable itself: an unknown verb ends at once with exit code 2 instead of serving the dashboard.</summary>
    [Fact]
    public async Task Executable_UnknownVerb_ExitsWith2WithoutServing()
    {
        using var data = TestPaths.NewTempFolder();
        var (code, _, stderr) = await RunExecutable(data.Path, "frobnicate", "--x", "1");
        Assert.Equal(2, code);
        Assert.Contains("unknown verb 'frobnicate'", stderr);
        Assert.False(File.Exists(Path.Combine(data.Path, "medzoo.db")), "the unknown verb opened the database");
    }

    /// <summary>The executable's generated help for train lists MedicalZoo's names with the options classes' defaults and docs.</summary>
    [Fact]
    public async Task Executable_TrainHelp_ListsGeneratedOptionsWithDefaultsAndDocs()
    {
        using var data = TestPaths.NewTempFolder();
        var (code, stdout, stderr) = await RunExecutable(data.Path, "train", "--help");
        Assert.True(code == 0, stderr);
        Assert.Contains("medzoo train [options]", stdout);
        var batch = stdout.Split('\n').Single(l => l.TrimStart().StartsWith("--batchSz ", StringComparison.Ordinal));
        Assert.Contains("Patches per batch (MedicalZoo's --batchSz; default 2). [default: 2]", batch);
        Assert.Contains(stdout.Split('\n'), l => l.TrimStart().StartsWith("--dim <D H W>", StringComparison.Ordinal) && l.Contains("[default: 32 32 32]", StringComparison.Ordinal));
        var opt = stdout.Split('\n').Single(l => l.TrimStart().StartsWith("--opt <sgd|adam|adamw|rmsprop>", StringComparison.Ordinal));
        Assert.EndsWith("[default: adam]", opt.TrimEnd());
        Assert.Contains(stdout.Split('\n'), l => l.TrimStart().StartsWith("--loss_deep_supervision_target ", StringComparison.Ordinal) && l.TrimEnd().EndsWith("[default: nearest]", StringComparison.Ordinal));
        Assert.DoesNotMatch(@"\[default: [A-Z][a-z]", stdout); // enum members as typed, never as named in C#
        Assert.DoesNotMatch(@"\bnull\b", stdout); // an unset property is an option not given
        Assert.DoesNotMatch(@"\b(DatasetCatalog|NormalizationKind|LossFactory|VaeLoss|DiceFocalLoss|GeneralizedDiceLoss|SegmentationLoss)\b", stdout);
        Assert.Contains("--augmentation_flip_probability <X>", stdout);
        Assert.Contains("--log_dir <FOLDER>", stdout);
    }

    /// <summary>A verb through the executable: inspect reads a volume and prints its JSON; a misspelt option is exit 2 with a suggestion.</summary>
    [Fact]
    public async Task Executable_InspectAndMisspeltOption_WorkAsInProcess()
    {
        using var data = TestPaths.NewTempFolder();
        var path = data.File("v.nii.gz");
        MedZoo.Engine.IO.VolumeIO.Write(MedZoo.Engine.IO.Volume.FromArray<float>(new float[4 * 3 * 2], [4, 3, 2]), path);
        var (code, stdout, stderr) = await RunExecutable(data.Path, "inspect", path, "--json");
        Assert.True(code == 0, stderr);
        using var json = System.Text.Json.JsonDocument.Parse(stdout);
        Assert.Equal([4, 3, 2], json.RootElement.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()));

        (code, _, stderr) = await RunExecutable(data.Path, "inspect", path, "--jsn");
        Assert.Equal(2, code);
        Assert.Contains("unknown option '--jsn' (did you mean --json?)", stderr);
        Assert.Contains("usage: medzoo inspect FILE [options]", stderr);
    }

    [Fact]
    public void Run_HelpVerb_IsTheVerbsGeneratedHelp()
    {
        var output = new StringWriter();
        Assert.Equal(0, CliApp.Run(["help", "infer"], output, new StringWriter()));
        Assert.Contains("--checkpoint <FILE>", output.ToString());
        Assert.Contains("--overlap <X>", output.ToString());
        Assert.Contains("[default: 0.5]", output.ToString());
    }

    [Fact]
    public void Run_Version_PrintsTheVersion()
    {
        var output = new StringWriter();
        Assert.Equal(0, CliApp.Run(["--version"], output, new StringWriter()));
        Assert.Matches(@"^\d+\.\d+\.\d+", output.ToString());
    }

    [Fact]
    public void Run_RootHelp_ListsEveryVerb()
    {
        var output = new StringWriter();
        Assert.Equal(0, CliApp.Run(["--help"], output, new StringWriter()));
        foreach (var verb in CliApp.Verbs) Assert.Contains(verb.Summary, output.ToString());
        Assert.Contains("serve", output.ToString());
    }

    /// <summary>
    /// 'medzoo serve --help' once started the dashboard on port 5000 and created a data folder. It lists every setting the
    /// server reads instead, with the default of each, and touches no data folder.
    /// </summary>
    [Fact]
    public async Task Executable_ServeHelp_ListsTheDashboardsSettingsAndStartsNothing()
    {
        using var data = TestPaths.NewTempFolder();
        var (code, stdout, stderr) = await RunExecutable(data.Path, "serve", "--help");
        Assert.True(code == 0, stderr);
        string Row(string key) => stdout.Split('\n').Single(l => l.TrimStart().StartsWith(key + " ", StringComparison.Ordinal));
        Assert.EndsWith("[default: http://127.0.0.1:5000]", Row("--urls <URL>").TrimEnd());
        Assert.Contains(Path.GetFullPath(data.Path), Row("--MedZoo:DataDirectory <DIR>")); // the default as this process resolves it
        Assert.EndsWith("[default: 1]", Row("--MedZoo:Runs:MaxConcurrentRunsPerDevice <N>").TrimEnd());
        Assert.EndsWith("[default: 00:00:30]", Row("--MedZoo:Cluster:QueueRepairAfter <HH:MM:SS>").TrimEnd());
        Assert.EndsWith("[default: false]", Row("--MedZoo:Cluster:Enabled <true|false>").TrimEnd());
        Assert.Contains("--MedZoo:Data:Roots:NAME <VALUE>", stdout);
        Assert.Contains("--MedZoo:Admin:Password <TEXT>", stdout);
        Assert.Contains("MedZoo__DataDirectory", stdout);
        Assert.Empty(Directory.EnumerateFileSystemEntries(data.Path));

        // Help asked among server options is serve's; 'medzoo help serve' is the same.
        var (code2, stdout2, _) = await RunExecutable(data.Path, "--urls", "http://127.0.0.1:5001", "--help");
        Assert.Equal(0, code2);
        Assert.Equal(stdout, stdout2);
        var output = new StringWriter();
        Assert.Equal(0, CliApp.Run(["help", "serve"], output, new StringWriter()));
        // Every row but the data folder's default, which the executable took from MEDZOO_DATA.
        static string[] Rows(string help) => [.. help.Split('\n').Where(l => l.StartsWith("  --", StringComparison.Ordinal) && !l.Contains("DataDirectory <", StringComparison.Ordinal))];
        Assert.Equal(Rows(stdout), Rows(output.ToString()));
    }

    /// <summary>Every setting serve's help lists is one the server binds: each key, set in configuration, changes the bound options.</summary>
    [Fact]
    public void ServeSettings_EveryListedKey_BindsToItsOptions()
    {
        var settings = ServeSettings.All.Where(s => s.Options is not null).ToList();
        Assert.True(settings.Count >= 25, $"only {settings.Count} settings found");
        foreach (var setting in settings)
        {
            Assert.False(string.IsNullOrWhiteSpace(setting.Description), $"{setting.Key} has no documentation");
            var type = setting.Options!;
            var section = (string)type.GetField("Section")!.GetRawConstantValue()!;
            var value = setting.HelpName switch
            {
                "true|false" => setting.Default == "true" ? "false" : "true",
                "N" => setting.Default == "7" ? "8" : "7",
                "X" => "0.25",
                "HH:MM:SS" => "00:00:07",
                _ => "/some/value",
            };
            var key = setting.Key.Replace(":NAME", ":probe", StringComparison.Ordinal);
            var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder()
                .AddInMemoryCollection([new KeyValuePair<string, string?>(key, value)]).Build();
            var bound = configuration.GetSection(section).Get(type);
            var fresh = Activator.CreateInstance(type)!;
            Assert.True(bound is not null && System.Text.Json.JsonSerializer.Serialize(bound, type) != System.Text.Json.JsonSerializer.Serialize(fresh, type),
                $"setting {key}={value} changed nothing in {type.Name}");
        }
    }

    private static async Task<(int Code, string Out, string Err)> RunExecutable(string dataFolder, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "medzoo.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the test project copies the web executable next to the tests");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment[DataOptions.EnvironmentVariable] = dataFolder;
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"'medzoo {string.Join(' ', args)}' was still running after 60 s (it served the dashboard?): {await stdout}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
