"""A small TCP proxy for fault tests: forwards a loopback port to a server (the session's vLLM) until shut down,
when it closes the listening socket and every open connection at once, as an engine that goes away would.

    with TcpProxy("127.0.0.1", 18011) as proxy:
        url = f"http://127.0.0.1:{proxy.port}/v1"
        ...
        proxy.shutdown()   # from any thread: requests in flight fail, new ones cannot connect

A thread per direction of each connection (a test proxies tens of connections, not thousands).
"""
from __future__ import annotations

import socket
import threading
from typing import Optional

CHUNK = 65536


class TcpProxy:
    """Listens on 127.0.0.1:port (a free one unless given) and forwards each connection to target_host:target_port.
    `connections` counts the connections accepted so far."""

    def __init__(self, target_host: str, target_port: int, port: int = 0) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", port))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._closed = threading.Event()
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, name=f"tcp-proxy-{self.port}", daemon=True)
        self._thread.start()

    def __enter__(self) -> "TcpProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()

    def _keep(self, sock: socket.socket) -> bool:
        """Track a socket to close at shutdown; False (and closed now) when shutdown already happened."""
        with self._lock:
            if self._closed.is_set():
                sock.close()
                return False
            self._sockets.add(sock)
            return True

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            if not (self._keep(client) and self._keep(upstream)):
                client.close()
                upstream.close()
                return
            self.connections += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        """Copy bytes one way until either side closes; then close both."""
        try:
            while True:
                data = source.recv(CHUNK)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                self._close(sock)

    def _close(self, sock: Optional[socket.socket]) -> None:
        with self._lock:
            self._sockets.discard(sock)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def shutdown(self) -> None:
        """Stop listening and cut every open connection (idempotent, from any thread)."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            sockets = list(self._sockets)
            self._sockets.clear()
        try:
            self._listener.close()
        except OSError:
            pass
        for sock in sockets:
            self._close(sock)
        self._thread.join(timeout=5)
