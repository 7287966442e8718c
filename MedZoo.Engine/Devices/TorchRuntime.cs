using System.Runtime.InteropServices;
using System.Text;
using TorchSharp;

namespace MedZoo.Engine.Devices;

/// <summary>
/// Loads TorchSharp's native runtime once and explains a failure in terms a user can act on.
/// TorchSharp reports a missing GLIBCXX symbol as "doesn't contain a reference to libtorch-cpu",
/// which sends people looking for the wrong package; <see cref="EnsureLoaded"/> diagnoses the
/// real cause (most often libstdc++ older than GCC 13 on Debian 12) and names the fix.
/// </summary>
public static class TorchRuntime
{
    /// <summary>The libstdc++ symbol version that TorchSharp 0.107's native library needs.</summary>
    public const string RequiredGlibcxx = "GLIBCXX_3.4.32";

    private static readonly Lock Gate = new();
    private static string? _failure;
    private static bool _loaded;

    /// <summary>True once the native runtime has loaded in this process.</summary>
    public static bool IsLoaded { get { lock (Gate) { return _loaded; } } }

    /// <summary>
    /// Loads the native runtime (idempotent). Returns null on success, else one message that says
    /// why it failed and how to fix it.
    /// </summary>
    public static string? TryLoad()
    {
        lock (Gate)
        {
            if (_loaded) return null;
            if (_failure is not null) return _failure;
            try
            {
                OneDnnIsa.Apply(); // before libtorch's first convolution (the module initializer normally did it)
                torch.InitializeDeviceType(DeviceType.CPU);
                using var probe = torch.ones(2);
                _ = probe.sum().item<float>();
                _loaded = true;
                return null;
            }
            catch (Exception e) when (e is NotSupportedException or DllNotFoundException or TypeInitializationException
                                           or EntryPointNotFoundException or BadImageFormatException or ExternalException)
            {
                _failure = Diagnose(e);
                return _failure;
            }
        }
    }

    /// <summary>Loads the native runtime or throws <see cref="InvalidOperationException"/> with the diagnosis.</summary>
    public static void EnsureLoaded()
    {
        var failure = TryLoad();
        if (failure is not null) throw new InvalidOperationException(failure);
    }

    private static string Diagnose(Exception e)
    {
        var sb = new StringBuilder("MedZoo cannot start: TorchSharp's native library (libtorch) did not load.");
        if (OperatingSystem.IsLinux())
        {
            var lib = FindLibStdCxx();
            if (lib is null)
            {
                sb.Append(" No libstdc++.so.6 was found; install your distribution's libstdc++6 package (GCC 13 or newer).");
            }
            else if (!FileContains(lib, RequiredGlibcxx))
            {
                sb.Append($" Cause: {lib} lacks {RequiredGlibcxx} (TorchSharp needs libstdc++ from GCC 13 or newer; ")
                  .Append("Debian 12 ships GCC 12's). Fix: run `scripts/prereqs.sh --runtime` as root, which installs ")
                  .Append("libstdc++6 from Debian 13 without changing your apt sources (Ubuntu 24.04 and Debian 13 need nothing).");
                return sb.ToString();
            }
        }
        sb.Append(" Check that the TorchSharp-cpu (or CUDA) runtime package was restored for this build ")
          .Append("(`dotnet build -p:TorchBackend=cpu`). Underlying error: ")
          .Append(e.GetType().Name).Append(": ").Append(FirstLine(e.Message));
        return sb.ToString();
    }

    private static string FirstLine(string s)
    {
        var i = s.IndexOf('\n');
        return i < 0 ? s : s[..i].TrimEnd();
    }

    private static string? FindLibStdCxx()
    {
        string[] candidates =
        [
            "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        ];
        return candidates.FirstOrDefault(File.Exists);
    }

    /// <summary>True if the file's bytes contain <paramref name="ascii"/> (what `strings | grep` checks).</summary>
    internal static bool FileContains(string path, string ascii)
    {
        try
        {
            var needle = Encoding.ASCII.GetBytes(ascii);
            var bytes = File.ReadAllBytes(path);
            return bytes.AsSpan().IndexOf(needle) >= 0;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
