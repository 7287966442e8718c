using System.Runtime.CompilerServices;
using MedZoo.Web.Settings;

namespace MedZoo.Tests.TestSupport;

/// <summary>
/// Process-wide settings applied before any test runs. The dashboard's default data folder is
/// pointed at a temporary folder, so code that resolves it (the train verb records its runs
/// there) never writes into the developer's real ~/.local/share/medzoo. The Engine's native settings
/// (<see cref="MedZoo.Engine.Devices.OneDnnIsa"/>, <see cref="MedZoo.Engine.Devices.MallocTuning"/>)
/// are applied before a test touches libtorch directly.
/// </summary>
internal static class TestEnvironment
{
    private static TempFolder? _dataFolder;

    // A module initializer is the one place that runs before every test class, fixture and verb.
#pragma warning disable CA2255
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void IsolateDataFolder()
    {
        _dataFolder = TestPaths.NewTempFolder();
        Environment.SetEnvironmentVariable(DataOptions.EnvironmentVariable, _dataFolder.Path);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => _dataFolder.Dispose();
        MedZoo.Engine.Devices.OneDnnIsa.Apply();
        MedZoo.Engine.Devices.MallocTuning.Apply();
        // Many in-process servers (browser tests) share this process with tests that block threads
        // while they train; the thread pool's slow growth then delayed Blazor and Kestrel work by
        // tens of seconds. Starting with more threads keeps the servers responsive.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));
    }
}
