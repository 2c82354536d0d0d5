"""Farm test fixtures: a tiny dense ONNX model, a fake Vivado tool chain, loopback dask processes."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def dense_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Dense(8 -> 5) + ReLU, float ONNX: the same shape as the hls4ml test design in ../shared/reports."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 5), torch.nn.ReLU())
    path = tmp_path_factory.mktemp("farm-models") / "dense8x5.onnx"
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.zeros(1, 8),), str(path), input_names=["x"], output_names=["y"],
            dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, dynamo=False,
        )  # fmt: skip
    return path


@pytest.fixture
def xilinx_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[Path]]:
    """Put the Tcl-executing stand-ins of an AMD release (tests/xilinx_standin) first on PATH.

    Call as ``xilinx_tools("2024.2")``; ``declared=False`` leaves HIL_STANDIN_TOOLS unset, so hil
    labels their figures as a real tool's (tests of the provenance rules only); ``board_parts``
    lists the third-party board files installed (HIL_STANDIN_BOARD_PARTS).
    """
    from tests.xilinx_standin import install

    def use(release: str, *, declared: bool = True, board_parts: str | None = None) -> list[Path]:
        bins = install(tmp_path / "Xilinx", release)
        python_bin = str(Path(sys.executable).parent)
        folders = [*map(str, bins), python_bin, "/usr/local/bin", "/usr/bin", "/bin"]
        monkeypatch.setenv("PATH", os.pathsep.join(folders))
        if declared:
            monkeypatch.setenv("HIL_STANDIN_TOOLS", "1")
        else:
            monkeypatch.delenv("HIL_STANDIN_TOOLS", raising=False)
        if board_parts is not None:
            monkeypatch.setenv("HIL_STANDIN_BOARD_PARTS", board_parts)
        return bins

    return use


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.1) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


class Processes:
    """Child processes started by a test, each in its own session; all killed at teardown."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], log: Path, **kwargs: object) -> subprocess.Popen[bytes]:
        handle = open(log, "wb")
        proc = subprocess.Popen(
            argv, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
        )  # type: ignore[call-overload]
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)

    def close(self) -> None:
        for proc in self.procs:
            self.kill(proc)


@pytest.fixture
def processes() -> Iterator[Processes]:
    tracker = Processes()
    try:
        yield tracker
    finally:
        tracker.close()


ZCU104 = {
    "part": "xczu7ev-ffvc1156-2-e",
    "resources": {"lut": 230400, "ff": 460800, "dsp": 1728, "bram36": 312, "uram": 96},
    "clock_mhz": 200,
}


def farm_inventory(folder: Path, **farm: object) -> Path:
    """An inventory.yaml with the zcu104 board and the given ``farm`` section; returns its path."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "inventory.yaml"
    path.write_text(yaml.safe_dump({"boards": {"zcu104": ZCU104}, "farm": farm}, sort_keys=False))
    return path


def hil_argv(*args: object) -> list[str]:
    """``python -m hil ARGS`` (this checkout's hil: PYTHONPATH is inherited)."""
    return [sys.executable, "-m", "hil", *(str(a) for a in args)]


def start_cluster(
    processes: Processes,
    folder: Path,
    workers: dict[str, dict[str, str]],
    *,
    certs: Path | None = None,
    timeout_s: float = 60.0,
) -> str:
    """A real ``dask scheduler`` and one ``dask worker`` per name on 127.0.0.1; returns the address.

    Args:
        workers: worker name -> extra environment of that worker process.
        certs: a ``hil farm certs`` folder with certificates for hosts ``127.0.0.1`` (the
            scheduler, and this test as client) and ``localhost`` (the workers): the scheduler
            and workers then talk mutual TLS.
    """
    from distributed import Client
    from distributed.security import Security

    port = free_port()
    protocol = "tls" if certs else "tcp"
    address = f"{protocol}://127.0.0.1:{port}"

    def tls_args(name: str) -> list[str]:
        if certs is None:
            return []
        return ["--tls-ca-file", str(certs / "ca.pem"), "--tls-cert", str(certs / f"{name}.pem"),
                "--tls-key", str(certs / f"{name}-key.pem")]  # fmt: skip

    processes.start(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard", "--protocol", protocol, *tls_args("127.0.0.1")], folder / "scheduler.log",
    )  # fmt: skip
    for name, env in workers.items():
        processes.start(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--name", name, "--nthreads", "1",
             "--no-nanny", "--resources", "vivado=1", "--host", "127.0.0.1", "--no-dashboard",
             *tls_args("localhost")],
            folder / f"{name}.log", env={**os.environ, **env},
        )  # fmt: skip
    security = None
    if certs is not None:
        security = Security(
            tls_ca_file=str(certs / "ca.pem"),
            tls_client_cert=str(certs / "127.0.0.1.pem"),
            tls_client_key=str(certs / "127.0.0.1-key.pem"),
            require_encryption=True,
        )
    deadline = time.monotonic() + timeout_s
    while True:  # the scheduler needs a moment before it accepts connections
        try:
            with Client(address, security=security, timeout=5) as client:
                client.wait_for_workers(len(workers), timeout=max(1.0, deadline - time.monotonic()))
            return address
        except (OSError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
