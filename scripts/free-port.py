#!/usr/bin/env python3
"""Prints COUNT (default 1) distinct TCP ports that are free on 127.0.0.1 now and lie outside the
kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), one per line.

Why not bind(0): the kernel hands out a port from the ephemeral range, and once the probe closes it,
any outgoing connection on the machine may take that port as its source port before the server that
was meant to listen there binds it. cluster-servers.sh chooses Redis's port, then spends seconds on
initdb and PostgreSQL: under a busy test run Redis then failed with "Address already in use". A port
outside the range is only ever taken by an explicit bind, so the same choice stays free; the scripts
still retry on a new port if another explicit bind wins the race.

    scripts/free-port.py [COUNT]
"""
import random
import socket
import sys

LOWEST = 10000  # below this lie the ports that system services are configured to use


def ephemeral_range(path="/proc/sys/net/ipv4/ip_local_port_range"):
    try:
        with open(path) as f:
            low, high = (int(v) for v in f.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def candidates(low, high):
    """The ranges outside [low, high] and above LOWEST, as (first, last) pairs."""
    spans = [(LOWEST, low - 1), (high + 1, 65535)]
    return [(a, b) for a, b in spans if b >= a]


def is_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))  # no SO_REUSEADDR: a port in TIME_WAIT counts as taken
        return True
    except OSError:
        return False
    finally:
        s.close()


def ephemeral_fallback():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_ports(count, rng=random.SystemRandom()):
    spans = candidates(*ephemeral_range())
    chosen = []
    for _ in range(count):
        port = None
        if spans:
            total = sum(b - a + 1 for a, b in spans)
            for _ in range(500):
                k = rng.randrange(total)
                for a, b in spans:
                    if k <= b - a:
                        p = a + k
                        break
                    k -= b - a + 1
                if p not in chosen and is_free(p):
                    port = p
                    break
        if port is None:  # the ephemeral range covers every port, or everything tried was taken
            port = ephemeral_fallback()
        chosen.append(port)
    return chosen


def main(argv):
    try:
        count = int(argv[1]) if len(argv) > 1 else 1
        if not 1 <= count <= 100:
            raise ValueError
    except ValueError:
        print(f"usage: {argv[0]} [COUNT]   (COUNT from 1 to 100, was {argv[1]!r})", file=sys.stderr)
        return 2
    for p in free_ports(count):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
