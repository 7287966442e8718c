using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MedZoo.Reliability.Server;

/// <summary>
/// The harness's child processes (servers, command-line runs): killed with their trees when the harness is
/// stopped with Ctrl+C, SIGTERM or SIGHUP, or exits, so that stopping a long load run no longer leaves a
/// training <c>medzoo.dll --urls</c> server behind. A SIGKILL of the harness itself cannot be caught; its
/// children then outlive it (find them with <c>pgrep -f "medzoo.dll --urls"</c>).
/// </summary>
public static class ChildProcesses
{
    private static readonly Lock Gate = new();
    private static readonly HashSet<Process> Children = [];
    private static readonly List<PosixSignalRegistration> Registrations = [];
    private static bool _hooked;

    /// <summary>Starts <paramref name="info"/> and keeps the process until it is <see cref="Forget">forgotten</see>.</summary>
    public static Process Start(ProcessStartInfo info)
    {
        Hook();
        var p = Process.Start(info) ?? throw new InvalidOperationException($"{info.FileName} did not start");
        lock (Gate) Children.Add(p);
        return p;
    }

    /// <summary>Stops tracking a process the caller has ended itself.</summary>
    public static void Forget(Process p)
    {
        lock (Gate) Children.Remove(p);
    }

    /// <summary>Children still tracked (for tests).</summary>
    public static int Count
    {
        get
        {
            lock (Gate) return Children.Count;
        }
    }

    /// <summary>Kills every tracked child with its tree; returns how many were still running.</summary>
    public static int KillAll()
    {
        Process[] children;
        lock (Gate)
        {
            children = [.. Children];
            Children.Clear();
        }
        var killed = 0;
        foreach (var p in children)
        {
            try
            {
                if (p.HasExited) continue;
                p.Kill(entireProcessTree: true);
                killed++;
            }
            catch (InvalidOperationException)
            {
                // It exited between the check and the kill.
            }
        }
        return killed;
    }

    private static void Hook()
    {
        lock (Gate)
        {
            if (_hooked) return;
            _hooked = true;
            AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
            foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP })
            {
                Registrations.Add(PosixSignalRegistration.Create(signal, context =>
                {
                    var n = KillAll();
                    if (n > 0) Console.Error.WriteLine($"medzoo-reliability: {context.Signal}: stopped {n} child process(es)");
                    // Not cancelled: the harness then ends as the signal asks.
                }));
            }
        }
    }
}
