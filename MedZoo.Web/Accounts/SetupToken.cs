using System.Security.Cryptography;
using System.Text;
using MedZoo.Web.Settings;
using Microsoft.Extensions.Options;

namespace MedZoo.Web.Accounts;

/// <summary>
/// The one-time token that first-run setup requires (as Jupyter's): issued at start while no account
/// exists, printed in the setup link on the console and written to <see cref="FileName"/> in the
/// data folder (owner read/write only). Whoever creates the first admin must show it, so neither the
/// first visitor of a fresh container nor a DNS-rebinding page can. A new token is issued at every
/// start; it is removed once setup is done.
/// </summary>
public sealed class SetupToken(IOptions<DataOptions> data)
{
    /// <summary>File in the data folder that holds the token while setup is open.</summary>
    public const string FileName = "setup-token";

    private readonly Lock _gate = new();
    private string? _token;

    /// <summary>Path of the token file.</summary>
    public string FilePath => Path.Combine(data.Value.DataDirectory, FileName);

    /// <summary>The token while setup is open, else null.</summary>
    public string? Current
    {
        get { lock (_gate) return _token; }
    }

    /// <summary>Issues a new token and writes it to <see cref="FilePath"/> (mode 0600 on Unix).</summary>
    public string Issue()
    {
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        Directory.CreateDirectory(data.Value.DataDirectory);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        File.Delete(FilePath); // UnixCreateMode applies only to a new file
        using (var stream = new FileStream(FilePath, options))
            stream.Write(Encoding.ASCII.GetBytes(token + "\n"));
        lock (_gate) _token = token;
        return token;
    }

    /// <summary>True when setup is open and <paramref name="candidate"/> is its token (compared in constant time).</summary>
    public bool Matches(string? candidate)
    {
        var token = Current;
        if (token is null || string.IsNullOrEmpty(candidate)) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(candidate.Trim()));
    }

    /// <summary>Closes setup: forgets the token and removes its file.</summary>
    public void Revoke()
    {
        lock (_gate) _token = null;
        File.Delete(FilePath);
    }
}
