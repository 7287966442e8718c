using System.Net;
using System.Net.Sockets;

namespace MedZoo.Reliability.Server;

/// <summary>
/// Ports for servers a test or trial starts itself and must find again after a restart: free on 127.0.0.1 now and
/// outside the kernel's ephemeral range. A port from <c>bind(0)</c> lies in that range, and once the probe closes
/// it any outgoing connection may take it as its source port before the server binds it (or while a killed
/// server is down). Only an explicit bind takes a port outside the range. The same rule as
/// <c>scripts/free-port.py</c>, which the shell scripts use.
/// </summary>
public static class ListenPorts
{
    /// <summary>Below this lie the ports system services are configured to use.</summary>
    public const int Lowest = 10000;

    /// <summary>Linux's default when /proc does not say.</summary>
    public static readonly (int Low, int High) DefaultEphemeral = (32768, 60999);

    /// <summary>The kernel's ephemeral port range (<c>net.ipv4.ip_local_port_range</c>).</summary>
    public static (int Low, int High) Ephemeral()
    {
        try
        {
            var parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range")
                .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && int.TryParse(parts[0], out var low) && int.TryParse(parts[1], out var high))
                return (low, high);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return DefaultEphemeral;
    }

    /// <summary>A port free now and outside the ephemeral range; bind(0)'s when the range covers every port above <see cref="Lowest"/>.</summary>
    public static int Free()
    {
        var (low, high) = Ephemeral();
        var spans = new[] { (First: Lowest, Last: low - 1), (First: high + 1, Last: 65535) }.Where(s => s.Last >= s.First).ToArray();
        var total = spans.Sum(s => s.Last - s.First + 1);
        for (var attempt = 0; total > 0 && attempt < 500; attempt++)
        {
            var k = Random.Shared.Next(total);
            foreach (var (first, last) in spans)
            {
                if (k <= last - first)
                {
                    if (IsFree(first + k)) return first + k;
                    break;
                }
                k -= last - first + 1;
            }
        }
        using var any = new TcpListener(IPAddress.Loopback, 0);
        any.Start();
        return ((IPEndPoint)any.LocalEndpoint).Port;
    }

    /// <summary>Whether 127.0.0.1:<paramref name="port"/> can be bound now.</summary>
    public static bool IsFree(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
