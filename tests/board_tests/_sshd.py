"""A real OpenSSH server on loopback for the board tests and the board benchmark.

Why a real sshd: paramiko's host-key checks, key auth, SFTP and exit-signal handling are what we
ship, and only a real server exercises them. Everything (host keys, client keys, config,
known_hosts) lives in one private 0700 folder; the server listens on 127.0.0.1 only, on a free
high port, runs as a child process and is always stopped by ``close``.
"""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def keygen(path: Path) -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "hil-test", "-f", str(path)],
        check=True,
        timeout=30,
    )
    return path


def install_user_key(user: str, public_key: str, relative: str) -> None:
    """Authorize ``public_key`` for ``user`` in ``~user/<relative>`` (owned by the user, mode 0600)."""
    import pwd

    entry = pwd.getpwnam(user)
    path = Path(entry.pw_dir) / relative
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(public_key)
    for target, mode in ((path.parent, 0o700), (path, 0o600)):
        os.chown(target, entry.pw_uid, entry.pw_gid)
        target.chmod(mode)


class LoopbackSshd:
    """sshd on 127.0.0.1:<free port> with its own host key and one authorized client key.

    Attributes:
        client_key: private key that the server accepts.
        stranger_key: a valid key the server does not accept (the wrong-key fault).
        known_hosts: a known_hosts file pinning this server's host key.
        user: the login user (the one running the tests).
    """

    def __init__(self, root: Path, *, user: str | None = None) -> None:
        if not os.path.exists(SSHD):
            raise RuntimeError(f"{SSHD} not found: install openssh-server (.ci/run does)")
        os.makedirs("/run/sshd", exist_ok=True)  # privilege-separation dir; .ci/setup.d makes it too
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        root.chmod(0o700)
        self.host_key = keygen(root / "host_ed25519")
        self.client_key = keygen(root / "client_ed25519")
        self.stranger_key = keygen(root / "stranger_ed25519")
        self.other_host_key = keygen(root / "other_host_ed25519")
        (root / "authorized_keys").write_text((root / "client_ed25519.pub").read_text())
        (root / "authorized_keys").chmod(0o600)
        self.port = free_port()
        self.user = user or getpass.getuser()
        keys_file = str(root / "authorized_keys")
        if user is not None:  # sshd reads the keys as that user: they go in the user's own ~/.ssh
            keys_file = ".ssh/hil_test_authorized_keys"
            install_user_key(user, (root / "client_ed25519.pub").read_text(), keys_file)
        self.known_hosts = root / "known_hosts"
        self.known_hosts.write_text(self.known_hosts_line(self.host_key))
        self.config = root / "sshd_config"
        self.config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"PidFile {root / 'sshd.pid'}",
                    f"AuthorizedKeysFile {keys_file}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",  # the key folder sits under /tmp, which StrictModes refuses
                    "PermitRootLogin prohibit-password",
                    "MaxStartups 64",
                    "MaxSessions 64",
                    "LogLevel ERROR",
                    "Subsystem sftp internal-sftp",
                    "",
                ]
            )
        )
        self.log = open(root / "sshd.log", "wb")
        self.process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(self.config)], stdout=self.log, stderr=subprocess.STDOUT
        )
        self._wait_ready(10.0)

    def known_hosts_line(self, host_key: Path) -> str:
        kind, blob = host_key.with_suffix(".pub").read_text().split()[:2]
        return f"[127.0.0.1]:{self.port} {kind} {blob}\n"

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited: {(self.root / 'sshd.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    if conn.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                time.sleep(0.05)
        self.close()
        raise RuntimeError(f"sshd did not listen on 127.0.0.1:{self.port} within {timeout_s} s")

    def board_fields(self, **overrides: object) -> dict[str, object]:
        """Inventory fields of a board reached through this server."""
        fields: dict[str, object] = {
            "host": "127.0.0.1",
            "port": self.port,
            "user": self.user,
            "key_file": str(self.client_key),
            "known_hosts": str(self.known_hosts),
        }
        fields.update(overrides)
        return fields

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.log.close()
