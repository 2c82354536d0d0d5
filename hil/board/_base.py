"""BaseTarget: where the agent runs (a board over SSH, or this host for an emulated board).

Why one small base: the measure orchestration (deploy, run, collect, clean up) is the same for
every target, so a new kind of target is a short file implementing four methods.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

__all__ = ["AgentRun", "BaseTarget", "agent_file"]


def agent_file() -> Path:
    """The agent script shipped with hil (uploaded to boards as is)."""
    return Path(__file__).with_name("agent.py")


@dataclass(frozen=True)
class AgentRun:
    """What one agent invocation returned.

    Attributes:
        status: exit status; None when the process was killed by a signal.
        stdout: everything it printed on stdout (one JSON object when it finished).
        stderr: the tail of its stderr, for messages.
        seconds: wall time of the run as seen from the host.
    """

    status: int | None
    stdout: str
    stderr: str
    seconds: float


class BaseTarget(abc.ABC):
    """A place to deploy a bundle and run the agent. Use as a context manager: exit cleans up."""

    #: Python interpreter that runs the agent on the target.
    python: str
    #: XILINX_XRT the agent sets when the environment has none (None: leave it).
    xrt: str | None = None

    def agent_prefix(self) -> list[str]:
        """argv before the interpreter: how the agent gets root (``sudo -n``), or nothing."""
        return []

    def machine(self) -> str:
        """The target's CPU architecture (``uname -m``: x86_64, aarch64, armv7l)."""
        import platform

        return platform.machine()

    @abc.abstractmethod
    def connect(self) -> None:
        """Open the connection (a no-op for local targets). Raises BoardFault."""

    @abc.abstractmethod
    def deploy(self, bundle_dir: Path | None, agent: Path) -> tuple[str, str]:
        """Place the agent and the bundle on the target; returns (agent path, bundle dir) there."""

    @abc.abstractmethod
    def run(self, argv: list[str], timeout_s: float) -> AgentRun:
        """Run a command on the target, killing it after ``timeout_s``. Raises BoardFault."""

    @abc.abstractmethod
    def close(self) -> None:
        """Remove what ``deploy`` placed and close the connection; never raises."""

    def __enter__(self) -> BaseTarget:
        self.connect()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
