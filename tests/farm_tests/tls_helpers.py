"""A one-shot TLS server on loopback, to watch real handshakes succeed or fail, and why."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path


class OneShotServer:
    """Accepts one connection with mutual TLS (``ca``, ``cert``, ``key``); records what happened."""

    def __init__(self, ca: Path, cert: Path, key: Path) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(ca))
        self.context.load_cert_chain(str(cert), str(key))
        self.context.verify_mode = ssl.CERT_REQUIRED
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.error: BaseException | None = None
        self.peer: dict[str, object] | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.listener.settimeout(10)
        try:
            raw, _ = self.listener.accept()
            with self.context.wrap_socket(raw, server_side=True) as conn:
                self.peer = conn.getpeercert()  # type: ignore[assignment]
                conn.sendall(b"ok")
        except (OSError, ssl.SSLError) as exc:
            self.error = exc
        finally:
            self.listener.close()

    def join(self) -> None:
        self.thread.join(timeout=10)


def client_context(ca: Path, cert: Path, key: Path, *, check_hostname: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca))
    context.check_hostname = check_hostname
    context.load_cert_chain(str(cert), str(key))
    return context


def handshake(context: ssl.SSLContext, port: int, server_hostname: str = "127.0.0.1") -> bytes:
    """Connect, finish the handshake and read the server's greeting (TLS 1.3 reports a refused
    client certificate at the first read)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=server_hostname) as conn:
            return conn.recv(2)
