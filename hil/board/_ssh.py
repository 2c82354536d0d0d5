"""SshTarget: a PYNQ board reached with paramiko (key auth, pinned host keys, SFTP, timeouts).

Why so strict: the board runs whatever we upload as root-capable code and programs an FPGA with
it, so we only talk to a host whose key is already known (``RejectPolicy``, never AutoAdd), only
authenticate with keys (a key file or an SSH agent; never passwords), quote every remote
argument with ``shlex``, upload only the files the bundle manifest names (checked against a safe
name pattern, so nothing can land outside the per-run folder), and bound every wait.
"""

from __future__ import annotations

import logging
import posixpath
import re
import select
import shlex
import time
import uuid
from pathlib import Path
from typing import Any

from hil.board._base import AgentRun, BaseTarget
from hil.board._fault import BoardFault
from hil.bundle import read_bundle
from hil.errors import ConfigError
from hil.inventory import Board
from hil.records import ErrorCode

__all__ = ["SAFE_NAME", "SshTarget", "check_remote_name"]

_log = logging.getLogger(__name__)
_TAIL = 8192

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def check_remote_name(name: str) -> str:
    """A file name that cannot escape its folder (no '/', no '..', no leading dot or dash)."""
    if not SAFE_NAME.fullmatch(name) or name in {".", ".."}:
        raise BoardFault(ErrorCode.DEPLOY, f"refusing to upload a file named {name!r} (unsafe name)")
    return name


def _workdir(board: Board) -> str:
    path = posixpath.normpath(board.workdir)
    if not board.workdir or ".." in board.workdir.split("/") or path in {"/", "."}:
        raise ConfigError(f"board {board.name!r}: workdir {board.workdir!r} must be a dedicated folder")
    return path


def _fingerprint(key: Any) -> str:
    return str(getattr(key, "fingerprint", None) or key.get_fingerprint().hex())


class SshTarget(BaseTarget):
    """A board with a ``host``: every step over one SSH connection.

    Args:
        board: the inventory entry (host, port, user, key_file, known_hosts, python, workdir).
        connect_timeout_s: bound on TCP connect, SSH banner, authentication and each SFTP call.
    """

    def __init__(self, board: Board, *, connect_timeout_s: float = 10.0) -> None:
        if board.host is None:
            raise ConfigError(f"board {board.name!r} has no host: it is emulated locally, not over SSH")
        self.board = board
        self.python = board.python
        self.xrt = board.xrt
        self.connect_timeout_s = connect_timeout_s
        self._client: Any = None
        self._sftp: Any = None
        self._run_dir: str | None = None

    def agent_prefix(self) -> list[str]:
        """``sudo -n`` when the agent gets root through sudo (never a password prompt: -n fails instead)."""
        if self.board.run_as == "sudo" and self.board.user != "root":
            return ["sudo", "-n"]
        return []

    @property
    def _where(self) -> str:
        return f"{self.board.user}@{self.board.host}:{self.board.port}"

    def _known_hosts_hint(self) -> str:
        known = self.board.known_hosts or Path("~/.ssh/known_hosts")
        host = self.board.host if self.board.port == 22 else f"[{self.board.host}]:{self.board.port}"
        return (
            f"check the key's fingerprint on the board's console (ssh-keygen -lf "
            f"/etc/ssh/ssh_host_ed25519_key.pub), then trust it with: ssh-keyscan -p {self.board.port} "
            f"{self.board.host} >> {known} (a stale entry goes with: ssh-keygen -R '{host}' -f {known})"
        )

    def connect(self) -> None:
        import paramiko

        board = self.board
        client = paramiko.SSHClient()
        if board.known_hosts is not None:
            if not board.known_hosts.is_file():
                raise BoardFault(
                    ErrorCode.BOARD_UNREACHABLE,
                    f"{board.name}: known_hosts file {board.known_hosts} not found; "
                    f"{self._known_hosts_hint()}",
                )
            client.load_host_keys(str(board.known_hosts))
        else:
            client.load_system_host_keys()
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        if board.key_file is not None and not board.key_file.is_file():
            raise BoardFault(
                ErrorCode.BOARD_UNREACHABLE, f"{board.name}: key_file {board.key_file} not found"
            )
        timeout = self.connect_timeout_s
        started = time.perf_counter()
        try:
            client.connect(
                board.host,
                port=board.port,
                username=board.user,
                key_filename=str(board.key_file) if board.key_file is not None else None,
                allow_agent=board.key_file is None,
                look_for_keys=board.key_file is None,
                timeout=timeout,
                banner_timeout=timeout,
                auth_timeout=timeout,
                channel_timeout=timeout,
            )
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise BoardFault(
                ErrorCode.BOARD_UNREACHABLE,
                f"{board.name}: host key of {self._where} CHANGED (known {_fingerprint(exc.expected_key)}, "
                f"offered {_fingerprint(exc.key)}); refusing to connect. If the board was re-imaged, "
                f"{self._known_hosts_hint()}",
            ) from None
        except paramiko.AuthenticationException as exc:
            client.close()
            raise BoardFault(
                ErrorCode.BOARD_UNREACHABLE,
                f"{board.name}: {self._where} refused our key ({exc}); add the public key of "
                f"{board.key_file or 'your SSH agent'} to {board.user}'s ~/.ssh/authorized_keys on the board",
            ) from None
        except paramiko.SSHException as exc:
            client.close()
            if "not found in known_hosts" in str(exc):
                raise BoardFault(
                    ErrorCode.BOARD_UNREACHABLE,
                    f"{board.name}: host key of {self._where} is unknown; refusing to connect; "
                    f"{self._known_hosts_hint()}",
                ) from None
            raise BoardFault(
                ErrorCode.BOARD_UNREACHABLE, f"{board.name}: SSH to {self._where}: {exc}"
            ) from None
        except (TimeoutError, OSError) as exc:
            client.close()
            reason = "timed out" if isinstance(exc, TimeoutError) else str(exc)
            raise BoardFault(
                ErrorCode.BOARD_UNREACHABLE, f"{board.name}: cannot connect to {self._where}: {reason}"
            ) from None
        self._client = client
        _log.info("connected to %s in %.3f s", self._where, time.perf_counter() - started)

    def _sftp_client(self) -> Any:
        if self._sftp is None:
            self._sftp = self._client.open_sftp()
            self._sftp.get_channel().settimeout(self.connect_timeout_s)
        return self._sftp

    def _makedirs(self, path: str) -> None:
        sftp = self._sftp_client()
        current = "/" if path.startswith("/") else ""
        for part in [p for p in path.split("/") if p]:
            current = posixpath.join(current, part) if current else part
            try:
                sftp.stat(current)
            except OSError:
                sftp.mkdir(current, 0o700)

    def deploy(self, bundle_dir: Path | None, agent: Path) -> tuple[str, str]:
        """Upload the agent and the bundle's listed files into a fresh ``<workdir>/run-<id>``."""
        workdir = _workdir(self.board)
        try:
            sftp = self._sftp_client()
            self._makedirs(workdir)
            run_dir = posixpath.join(workdir, f"run-{uuid.uuid4().hex[:12]}")
            sftp.mkdir(run_dir, 0o700)
            self._run_dir = run_dir
            remote_agent = posixpath.join(run_dir, "agent.py")
            sftp.put(str(agent), remote_agent, confirm=True)
            remote_bundle = posixpath.join(run_dir, "bundle")
            if bundle_dir is not None:
                sftp.mkdir(remote_bundle, 0o700)
                bundle = read_bundle(bundle_dir)
                for name in ("bundle.json", *sorted(bundle.files)):
                    check_remote_name(name)
                    sftp.put(str(Path(bundle_dir) / name), posixpath.join(remote_bundle, name), confirm=True)
        except BoardFault:
            raise
        except (TimeoutError, OSError, EOFError) as exc:
            raise BoardFault(
                ErrorCode.DEPLOY, f"{self.board.name}: upload to {self._where} failed: {exc}"
            ) from None
        except Exception as exc:  # paramiko.SSHException and friends
            raise BoardFault(ErrorCode.DEPLOY, f"{self.board.name}: upload failed: {exc}") from None
        return remote_agent, remote_bundle

    def machine(self) -> str:
        """``uname -m`` on the board."""
        if self._client is None:
            raise BoardFault(ErrorCode.BOARD_UNREACHABLE, f"{self.board.name}: not connected")
        run = self._exec("uname -m", self.connect_timeout_s)
        return run.stdout.strip() or "unknown"

    def _exec(self, command: str, timeout_s: float) -> AgentRun:
        started = time.perf_counter()
        deadline = time.monotonic() + timeout_s
        try:
            channel = self._client.get_transport().open_session(timeout=self.connect_timeout_s)
            channel.exec_command(command)
        except Exception as exc:  # the connection dropped between calls
            raise BoardFault(
                ErrorCode.BOARD_UNREACHABLE, f"{self.board.name}: lost the connection: {exc}"
            ) from None
        out, err = bytearray(), bytearray()
        try:
            while True:
                while channel.recv_ready():
                    out += channel.recv(65536)
                while channel.recv_stderr_ready():
                    err += channel.recv_stderr(65536)
                    del err[:-_TAIL]
                if (
                    channel.exit_status_ready()
                    and not channel.recv_ready()
                    and not channel.recv_stderr_ready()
                ):
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                select.select([channel], [], [], min(left, 0.2))
            status = channel.recv_exit_status()
        finally:
            channel.close()
        return AgentRun(
            status=None if status < 0 else status,  # sshd sends exit-signal, not a status, for a kill
            stdout=out.decode("utf-8", "replace"),
            stderr=err.decode("utf-8", "replace"),
            seconds=time.perf_counter() - started,
        )

    def run(self, argv: list[str], timeout_s: float) -> AgentRun:
        """Run ``argv`` in the run folder; on timeout kill it (via its pid file) and raise RUN_TIMEOUT."""
        if self._client is None:
            raise BoardFault(ErrorCode.BOARD_UNREACHABLE, f"{self.board.name}: not connected")
        run_dir = self._run_dir or _workdir(self.board)
        pid_file = posixpath.join(run_dir, "agent.pid")
        # The shell records its pid and exec's the agent, which keeps that pid: we can kill it later.
        command = f"cd {shlex.quote(run_dir)} && echo $$ > {shlex.quote(pid_file)} && exec {shlex.join(argv)}"
        try:
            return self._exec(command, timeout_s)
        except TimeoutError:
            self._kill(pid_file)
            raise BoardFault(
                ErrorCode.RUN_TIMEOUT,
                f"{self.board.name}: agent did not finish within {timeout_s:g} s; killed it",
            ) from None

    def _kill(self, pid_file: str) -> None:
        kill = shlex.join(["sh", "-c", 'kill -KILL "$(cat "$1")" 2>/dev/null; true', "sh", pid_file])
        try:
            self._exec(kill, self.connect_timeout_s)
        except (BoardFault, TimeoutError) as exc:
            _log.warning("could not kill the agent on %s: %s", self.board.name, exc)

    def close(self) -> None:
        """Remove the run folder, close SFTP and SSH; logs and swallows errors (called on failure paths)."""
        if self._client is not None and self._run_dir is not None:
            try:
                self._exec(shlex.join(["rm", "-rf", "--", self._run_dir]), self.connect_timeout_s)
            except (BoardFault, TimeoutError) as exc:
                _log.warning("could not remove %s on %s: %s", self._run_dir, self.board.name, exc)
            self._run_dir = None
        for handle in (self._sftp, self._client):
            if handle is not None:
                try:
                    handle.close()
                except Exception as exc:  # closing a dead connection may raise anything
                    _log.debug("close on %s: %s", self.board.name, exc)
        self._sftp = self._client = None
