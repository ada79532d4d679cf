"""Listening sockets for the project's HTTP services (Steward, registry) under uvicorn.

Every service socket is made here, for one reason: asyncio turns Nagle's algorithm off only
on sockets whose ``proto`` is TCP, and a socket made as ``socket.socket(family, SOCK_STREAM)``
has proto 0. With Nagle on, a response that uvicorn writes as headers then body waits for
the client's delayed ACK before the body leaves: 40 ms a response, which capped a two-worker
Steward at a third of its throughput (benchmarks/steward_http.py). Sockets from here name the
protocol and set ``TCP_NODELAY``, which accepted connections inherit.
"""

from __future__ import annotations

import socket


def tcp_listener(host: str, port: int, *, reuse_port: bool = False, listen: bool = True, backlog: int = 2048) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: any free port), listening unless asked not to.

    ``reuse_port``: join the port's ``SO_REUSEPORT`` group, so that several worker processes
    each accept on their own socket and the kernel spreads connections over them. Linux lets
    only processes of the same user join a group.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        if listen:
            sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock
