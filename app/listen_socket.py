"""The server's listening socket, made here when the kernel's send buffer is to be bounded.

Linux sizes a connection's send buffer by itself, up to `net.ipv4.tcp_wmem`'s maximum (4 MiB
here): a watcher that stops reading can park that much of the server's kernel memory before its
writes wait and the live feed tells it to reconnect (app/live/feed.py). A buffer set on the
listening socket is inherited by every connection it accepts, which then keeps that size.
"""

from __future__ import annotations

import socket


def listening_socket(host: str, port: int, send_buffer_bytes: int) -> socket.socket:
    assert send_buffer_bytes > 0, send_buffer_bytes
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer_bytes)
    sock.bind((host, port))
    sock.set_inheritable(True)  # the worker processes serve it too
    return sock
