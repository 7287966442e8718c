using System.Runtime.InteropServices;

namespace MedZoo.Web.Runs;

/// <summary>
/// What kind of file a path names, without following a final symbolic link and without opening it:
/// opening a pipe blocks until someone writes to it and a device (<c>/dev/zero</c>) never ends, so
/// files named by an outside source (a journal) are checked before they are read.
/// </summary>
internal static class LocalFiles
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int StatxSize = 256; // struct statx, fixed by the kernel ABI
    private const int StatxModeOffset = 28; // __u16 stx_mode
    private const int TypeMask = 0xF000;
    private const int Regular = 0x8000;

    /// <summary>True when <paramref name="path"/> is a plain file: not a link, directory, pipe, socket or device.</summary>
    public static bool IsRegularFile(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            var info = new FileInfo(path);
            return info.Exists && info.LinkTarget is null && (info.Attributes & (FileAttributes.Directory | FileAttributes.Device | FileAttributes.ReparsePoint)) == 0;
        }
        var buffer = new byte[StatxSize];
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) != 0) return false;
        var mode = BitConverter.ToUInt16(buffer, StatxModeOffset);
        return (mode & TypeMask) == Regular;
    }

    [DllImport("libc", EntryPoint = "statx", SetLastError = true, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern int Statx(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);
}
