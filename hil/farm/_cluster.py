"""Where builds run: an in-process dask LocalCluster (default) or a farm's dask scheduler, securely.

Why dask.distributed: a farm is then one ``dask scheduler`` and ``dask worker tls://HOST:8786
--resources vivado=1 --nthreads 1`` per build host (or dask-jobqueue on SLURM), with no farm
daemon of our own. Local workers are processes (builds load hls4ml and g++ libraries; threads
would share one interpreter) and each holds one ``vivado`` resource, like a licensed host.

Why TLS is the default: dask pickles tasks and results, so whoever can open a connection to the
scheduler can run any code on every worker and, through results, on the coordinator. A farm
scheduler is therefore ``tls://`` with mutual authentication (dask's ``Security``: every peer
shows a certificate signed by the farm's CA; ``hil farm certs`` makes them). Plain ``tcp://`` is
accepted only to a loopback address, or with an explicit ``insecure=True`` (``--insecure``) that
logs why it is dangerous. The local cluster listens on 127.0.0.1 with throw-away in-memory
certificates (``Security.temporary()``), so other users of the same host cannot use it either.

Why a ``Security`` of our own: dask's ``Security`` turns ``check_hostname`` off in every SSL
context it makes (it expects workers to dial IP addresses), so any certificate the farm's CA
signed could stand in for the scheduler. ``hil farm certs`` issues certificates per host,
naming it, and the coordinator's connections are made with ``HostCheckingSecurity``, whose
client context checks that the scheduler's certificate names the host in the address. dask's
``dask worker`` command line offers no such switch: workers still accept any farm certificate
from the scheduler (the README's trust model says so).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hil.errors import ConfigError

__all__ = [
    "open_client",
    "TlsFiles",
    "tls_files",
    "scheduler_security",
    "is_loopback",
    "host_checking_security",
]

_log = logging.getLogger(__name__)

INSECURE_WARNING = (
    "INSECURE: plain tcp:// to {address}: dask pickles tasks and results, so anyone who can reach "
    "{host}:{port} can run any code on every build host and on this machine. Use tls:// with "
    "certificates (`hil farm certs DIR`, inventory farm.tls) unless this network is yours alone."
)


@dataclass(frozen=True)
class TlsFiles:
    """The coordinator's CA certificate, certificate and key (PEM files)."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def check(self) -> None:
        """Raises ConfigError naming the first missing file."""
        for name, path in (
            ("ca_file", self.ca_file),
            ("cert_file", self.cert_file),
            ("key_file", self.key_file),
        ):
            if not path.is_file():
                raise ConfigError(f"farm.tls.{name}: {path} not found (`hil farm certs DIR` makes the files)")


def tls_files(inventory: Any) -> TlsFiles | None:
    """The inventory's ``farm.tls``, relative paths resolved against the inventory file's folder."""
    tls = getattr(getattr(inventory, "farm", None), "tls", None)
    if tls is None:
        return None
    source = getattr(inventory, "source", None)
    base = Path(source).parent if source is not None else Path.cwd()

    def resolve(path: Path) -> Path:
        path = Path(path).expanduser()
        return path if path.is_absolute() else base / path

    return TlsFiles(resolve(tls.ca_file), resolve(tls.cert_file), resolve(tls.key_file))


def is_loopback(host: str) -> bool:
    """True when every address ``host`` names is a loopback address (127.0.0.0/8, ::1)."""
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    addresses = {str(info[4][0]).split("%")[0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def scheduler_security(
    address: str, tls: TlsFiles | None, *, insecure: bool = False, warn: bool = True
) -> Any:
    """The dask ``Security`` to reach ``address`` (None for plain tcp), or a ConfigError saying why not.

    Raises:
        ConfigError: a ``tls://`` address without certificates (or with a missing file); a
            ``tcp://`` address that is not loopback without ``insecure``; another scheme.
    """
    parts = urlsplit(address)
    host, port = parts.hostname or "", parts.port
    if parts.scheme == "tls":
        if tls is None:
            raise ConfigError(
                f"scheduler {address} needs farm.tls (ca_file, cert_file, key_file) in the inventory; "
                "`hil farm certs DIR` makes them"
            )
        tls.check()
        return host_checking_security(tls)
    if parts.scheme == "tcp":
        if is_loopback(host):
            return None
        if not insecure:
            raise ConfigError(
                f"refusing plain tcp:// to {host}, which is not a loopback address: anyone who can reach "
                f"port {port} could run code on the build hosts (dask pickles tasks). Use tls:// with "
                "farm.tls certificates (`hil farm certs DIR`), or pass --insecure on a network you trust"
            )
        if warn:
            _log.warning(INSECURE_WARNING.format(address=address, host=host, port=port))
        return None
    raise ConfigError(f"scheduler {address}: expected tls://HOST:PORT or tcp://HOST:PORT")


def host_checking_security(tls: TlsFiles) -> Any:
    """A dask ``Security`` for the coordinator whose connections check the peer's host name.

    dask builds a fresh ``ssl.SSLContext`` per connection role and sets ``check_hostname =
    False`` in it; this subclass turns it back on for the ``client`` role's contexts, where
    tornado passes the dialled host as ``server_hostname``.
    """
    from distributed.security import Security

    class HostCheckingSecurity(Security):
        def get_connection_args(self, role: str) -> dict[str, Any]:
            args: dict[str, Any] = super().get_connection_args(role)
            context = args.get("ssl_context")
            if context is not None:
                context.check_hostname = True
            return args

    return HostCheckingSecurity(
        tls_ca_file=str(tls.ca_file),
        tls_client_cert=str(tls.cert_file),
        tls_client_key=str(tls.key_file),
        require_encryption=True,
    )


def _quiet_dask() -> None:
    """dask logs every scheduler and worker event at INFO; keep hil's own progress readable.

    Only when hil's logging is above INFO (no ``--verbose``): then dask says only warnings.
    """
    if logging.getLogger().getEffectiveLevel() > logging.INFO:
        for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.worker",
                     "distributed.core", "distributed.http.proxy", "distributed.diskutils"):  # fmt: skip
            logging.getLogger(name).setLevel(logging.WARNING)


@contextmanager
def open_client(
    scheduler: str | None = None,
    *,
    workers: int = 2,
    timeout_s: float = 30.0,
    tls: TlsFiles | None = None,
    insecure: bool = False,
    local_tls: bool = True,
) -> Iterator[Any]:
    """A connected dask ``Client``; the local cluster (if any) is closed on exit.

    Args:
        scheduler: ``tls://HOST:PORT`` or ``tcp://HOST:PORT`` of a running scheduler; None
            starts a local cluster on 127.0.0.1.
        workers: local worker processes (one thread each).
        timeout_s: how long to wait for the scheduler.
        tls: certificates for a ``tls://`` scheduler.
        insecure: allow plain ``tcp://`` to a non-loopback address (logs a warning).
        local_tls: the local cluster talks TLS with throw-away certificates (default).
    """
    import dask
    from distributed import Client, LocalCluster

    # A lost worker's task is retried elsewhere; after 3 losses it fails (a build that kills workers).
    with dask.config.set({"distributed.scheduler.allowed-failures": 3}):
        if scheduler is not None:
            security = scheduler_security(scheduler, tls, insecure=insecure)
            try:
                client = Client(scheduler, timeout=timeout_s, security=security)
            except (OSError, TimeoutError) as exc:
                raise ConfigError(f"cannot reach dask scheduler {scheduler} ({exc})") from None
            try:
                yield client
            finally:
                client.close()
            return
        from distributed.security import Security

        _quiet_dask()
        security = Security.temporary() if local_tls else None
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            resources={"vivado": 1},
            dashboard_address=None,
            host="127.0.0.1",
            security=security,
        )
        client = Client(cluster, security=security)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
