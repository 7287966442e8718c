using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MedZoo.Engine.IO.Streams;

/// <summary>
/// Byte arrays for whole volumes that are cheap to fill. A fresh multi-megabyte array is new memory
/// the kernel must fault in and zero one 4 KiB page at a time on first write: reading a 7 MB
/// uncompressed NIfTI from the page cache cost 7 ms that way, 0.3 ms of it the copy itself, where
/// nibabel (whose malloc reuses freed memory) took about 1 ms. On Linux the array's whole 2 MiB
/// pages are therefore advised as transparent huge pages (<c>madvise(MADV_HUGEPAGE)</c>, honoured
/// where <c>/sys/kernel/mm/transparent_hugepage/enabled</c> is <c>madvise</c> or <c>always</c>): a
/// fault then maps 2 MiB at once, and the same read takes about 1 ms. Elsewhere, or if the advice
/// fails, the array is an ordinary one; the advice never changes the contents.
/// </summary>
internal static class LargeBuffer
{
    /// <summary>Arrays at least this long are advised (smaller ones rarely span a whole huge page).</summary>
    public const int AdviseFrom = 4 << 20;

    private const nuint HugePage = 2u << 20;
    private const int MadvHugePage = 14;

    private static bool _unavailable = !OperatingSystem.IsLinux();

    /// <summary>An uninitialised array of <paramref name="length"/> bytes, advised for huge pages when large.</summary>
    public static byte[] Allocate(int length) => Allocate<byte>(length);

    /// <summary>
    /// An uninitialised array of <paramref name="length"/> elements (e.g. the float32 copy of a volume,
    /// which the caller overwrites whole), advised for huge pages when it spans at least
    /// <see cref="AdviseFrom"/> bytes.
    /// </summary>
    public static T[] Allocate<T>(int length) where T : unmanaged
    {
        var buffer = GC.AllocateUninitializedArray<T>(length);
        if ((long)length * Unsafe.SizeOf<T>() >= AdviseFrom && !_unavailable) Advise(buffer);
        return buffer;
    }

    private static unsafe void Advise<T>(T[] buffer) where T : unmanaged
    {
        try
        {
            // Large arrays live on the large object heap, which is not compacted unless asked to; the
            // advice covers address ranges (not the object), so a later move could only lose it.
            fixed (T* p = buffer)
            {
                var start = ((nuint)p + HugePage - 1) & ~(HugePage - 1);
                var end = ((nuint)p + (nuint)buffer.Length * (nuint)Unsafe.SizeOf<T>()) & ~(HugePage - 1);
                if (end > start) _ = madvise((void*)start, end - start, MadvHugePage);
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            _unavailable = true;
        }
    }

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern unsafe int madvise(void* address, nuint length, int advice);
}
