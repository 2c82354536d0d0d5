"""A real owner's board path: set-up checked over real SSH with an unprivileged user and Debian's real sudo,
set-up faults that stop a board (BOARD_SETUP) without quarantining it, and provenance that is verified.

The unprivileged user (``hilboard``, created here as PYNQ's images create ``xilinx``) logs in over
the loopback sshd with a key; whether it may run the agent as root is decided by the real
``sudo`` and a real sudoers file, exactly the rule `hil boards --check` prints.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hil.board import BoardPool, check_board, measure_bundle
from hil.board._measure import sudoers_line
from hil.board._result import run_provenance
from hil.bundle import BoardBundle, read_bundle
from hil.inventory import Board
from hil.records import ErrorCode, Provenance
from tests._shared import REPO
from tests.board_tests._sshd import LoopbackSshd

Config = Callable[..., object]
USER = "hilboard"
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's: any user may run it; it has no pynq


def _need(condition: bool, why: str) -> None:
    if not condition:
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture(scope="module")
def board_user() -> str:
    """A login user without root, as PYNQ's images have (xilinx): created once, locked to keys only."""
    _need(os.geteuid() == 0, "creating a test user needs root (CI runs as root)")
    _need(shutil.which("sudo") is not None, "Debian's sudo is missing (.ci/run installs it)")
    _need(os.path.exists(SYSTEM_PYTHON), f"{SYSTEM_PYTHON} is missing")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", USER], check=True)
    # sshd (UsePAM no) refuses a locked account ("!" password); "*" has no password but is not locked
    subprocess.run(["usermod", "-p", "*", USER], check=True)
    return USER


@pytest.fixture(scope="module")
def user_sshd(board_user: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackSshd]:
    server = LoopbackSshd(tmp_path_factory.mktemp("sshd-user"), user=board_user)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def sudoers() -> Iterator[Callable[[str], Path]]:
    """Install a sudoers rule (checked by visudo) for one test; removed afterwards."""
    made: list[Path] = []

    def install(line: str) -> Path:
        path = Path(f"/etc/sudoers.d/hil-test-{os.getpid()}")
        staging = path.with_suffix(".tmp")
        staging.write_text(line + "\n")
        staging.chmod(0o440)
        subprocess.run(["visudo", "-cf", str(staging)], check=True, capture_output=True)
        staging.replace(path)
        made.append(path)
        return path

    yield install
    for path in made:
        path.unlink(missing_ok=True)


def _user_board(make_board: Callable[..., Board], sshd: LoopbackSshd, **fields: object) -> Board:
    home = pwd.getpwnam(sshd.user).pw_dir
    entry: dict[str, object] = {"python": SYSTEM_PYTHON, "workdir": f"{home}/hil", **fields}
    return make_board("zcu104", **sshd.board_fields(**entry))


def test_no_sudo_rights_stops_the_board_with_the_exact_sudoers_rule(
    user_sshd: LoopbackSshd,
    make_board: Callable[..., Board],
    config: Config,
    pool: BoardPool,
    overlay_bundle: BoardBundle,
) -> None:
    board = _user_board(make_board, user_sshd)
    row = check_board(board, config())  # type: ignore[arg-type]
    assert not row["ok"] and row["code"] == "BOARD_SETUP"
    (problem,) = row["problems"]
    assert "sudo refused to run the agent as root" in problem and sudoers_line(board) in problem
    assert (
        sudoers_line(board)
        == f"{USER} ALL=(root) NOPASSWD: {SYSTEM_PYTHON} /home/{USER}/hil/run-*/agent.py *"
    )
    health = pool.health("zcu104")
    assert health.setup_required and not health.quarantined and health.consecutive_failures == 0
    # a measurement does not even start: the board is stopped with its message, not counted as flaky
    result = measure_bundle(board, overlay_bundle.path, config())  # type: ignore[arg-type]
    assert result.error_code is ErrorCode.BOARD_SETUP and "stopped until it is set up" in result.message
    assert "hil boards --check --board zcu104" in result.message


def test_the_printed_rule_works_and_a_missing_pynq_is_named(
    user_sshd: LoopbackSshd, make_board: Callable[..., Board], config: Config, sudoers: Callable[[str], Path]
) -> None:
    board = _user_board(make_board, user_sshd)
    sudoers(sudoers_line(board))
    row = check_board(board, config())  # type: ignore[arg-type]
    assert row["setup"]["euid"] == 0 and row["setup"]["user"] == "root"  # sudo -n ran the agent as root
    (problem,) = row["problems"]
    assert problem.startswith(f"{SYSTEM_PYTHON} cannot import pynq (ModuleNotFoundError")
    assert "set python: to the PYNQ image's venv (/usr/local/share/pynq-venv/bin/python3)" in problem


def test_wrong_python_is_named(
    user_sshd: LoopbackSshd, make_board: Callable[..., Board], config: Config
) -> None:
    board = _user_board(make_board, user_sshd, python="/opt/no-such-venv/bin/python3")
    row = check_board(board, config())  # type: ignore[arg-type]
    assert row["code"] == "BOARD_SETUP" and len(row["problems"]) == 1
    assert "python could not be started" in row["problems"][0] and "set python:" in row["problems"][0]


def test_an_agent_without_root_is_told_how_to_get_it(
    user_sshd: LoopbackSshd, make_board: Callable[..., Board], config: Config
) -> None:
    board = _user_board(make_board, user_sshd, run_as="user")
    row = check_board(board, config())  # type: ignore[arg-type]
    assert row["setup"]["euid"] != 0
    assert any("PYNQ needs root" in p and "run_as: sudo" in p for p in row["problems"])


def test_board_name_mismatch_is_named(
    sshd: LoopbackSshd, make_board: Callable[..., Board], config: Config, pynq4_python: str, tmp_path: Path
) -> None:
    """The board's PYNQ says it is a Pynq-Z2 (its $BOARD); the inventory entry is zcu104."""
    wrapper = tmp_path / "python-on-a-pynq-z2"
    wrapper.write_text(f'#!/bin/sh\nBOARD=Pynq-Z2 exec "{pynq4_python}" "$@"\n')
    wrapper.chmod(0o755)
    row = check_board(make_board("zcu104", **sshd.board_fields(python=str(wrapper))), config())  # type: ignore[arg-type]
    (problem,) = row["problems"]
    assert "PYNQ reports board 'Pynq-Z2', the inventory entry is zcu104" in problem
    fixed = make_board("zcu104", **sshd.board_fields(python=str(wrapper)), pynq_board="Pynq-Z2")
    assert check_board(fixed, config())["ok"]  # type: ignore[arg-type]


def test_hil_boards_check_prints_one_line_per_problem(
    run_cli: Callable[..., tuple[int, str, str]], user_sshd: LoopbackSshd, tmp_path: Path, monkeypatch
) -> None:
    import yaml

    monkeypatch.setenv("HIL_LEASE_DIR", str(tmp_path / "leases"))
    resources = {"lut": 230400, "ff": 460800, "dsp": 1728, "bram36": 312}
    entry = {
        "part": "xczu7ev-ffvc1156-2-e", "resources": resources, "clock_mhz": 200,
        **user_sshd.board_fields(python="/opt/no-such-venv/bin/python3"), "workdir": f"/home/{USER}/hil",
    }  # fmt: skip
    entry = {k: str(v) if isinstance(v, Path) else v for k, v in entry.items()}
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(yaml.safe_dump({"boards": {"zcu104": entry}}))
    code, out, _err = run_cli("boards", "--check", "--inventory", inventory)
    assert code == 1
    lines = [line for line in out.splitlines() if line.startswith("zcu104: ")]
    assert len(lines) == 1 and "set python:" in lines[0]


def test_a_bundle_edited_to_claim_board_timing_is_refused(
    bundle: BoardBundle, make_board: Callable[..., Board], config: Config, tmp_path: Path
) -> None:
    edited = tmp_path / "edited"
    shutil.copytree(bundle.path, edited)
    manifest = json.loads((edited / "bundle.json").read_text())
    manifest["timing"]["provenance"] = "board"
    (edited / "bundle.json").write_text(json.dumps(manifest))
    result = measure_bundle(make_board(), edited, config(emulate=True))  # type: ignore[arg-type]
    assert result.error_code is ErrorCode.DEPLOY and "refusing an edited bundle" in result.message
    assert len(result.message.splitlines()) == 1 and not result.metrics


def _payload(**device: object) -> dict[str, object]:
    return {
        "emulated": False,
        "versions": {"pynq": "3.1.2"},
        "device": {"class": "pynq.pl_server.embedded_device.EmbeddedDevice", "standin": False, **device},
    }


def test_every_path_to_board_needs_the_agents_real_device_report(overlay_bundle: BoardBundle) -> None:
    """``board`` is produced in one place (run_provenance), and only from a complete real-device report."""
    produced = []
    for root in (REPO / "hil", REPO / "search"):
        for path in root.rglob("*.py"):
            text = path.read_text()
            for match in re.finditer(r"Provenance\.BOARD\b|Provenance\(\s*[\"']board[\"']\s*\)", text):
                line = text[: match.start()].count("\n") + 1
                produced.append((str(path.relative_to(REPO)), text.splitlines()[line - 1].strip()))
    producers = [(p, line) for p, line in produced if line.startswith("return")]
    assert producers == [("hil/board/_result.py", "return Provenance.BOARD")], produced
    sha = overlay_bundle.files["design.bit"]
    real = _payload(bitstream_sha256=sha)
    assert run_provenance(real, overlay_bundle) is Provenance.BOARD
    # each missing piece of the agent's report (or a bundle that cannot be believed) loses `board`
    assert run_provenance({**real, "emulated": True}, overlay_bundle) is Provenance.EMULATED
    assert run_provenance(real, None) is Provenance.STANDIN
    assert run_provenance(_payload(bitstream_sha256="0" * 64), overlay_bundle) is Provenance.STANDIN
    assert run_provenance(_payload(), overlay_bundle) is Provenance.STANDIN
    assert run_provenance(_payload(bitstream_sha256=sha, standin=True), overlay_bundle) is Provenance.STANDIN
    no_pynq = {**real, "versions": {}}
    assert run_provenance(no_pynq, overlay_bundle) is Provenance.STANDIN
    silent = {**real, "device": {"bitstream_sha256": sha}}  # an agent that does not say which device
    assert run_provenance(silent, overlay_bundle) is Provenance.STANDIN
    built_with_standins = read_bundle(overlay_bundle.path)
    object.__setattr__(built_with_standins, "build", {"standin": True})
    assert run_provenance(real, built_with_standins) is Provenance.STANDIN


def test_emulating_on_a_board_with_another_cpu_is_refused_in_one_line(
    make_board: Callable[..., Board],
) -> None:
    from hil.board._measure import check_emulation_arch
    from hil.errors import InputError

    class _ArmBoard:
        def machine(self) -> str:
            return "aarch64"

    board = make_board("zcu104", host="192.0.2.1")  # never contacted: the target is the fake above
    with pytest.raises(InputError, match=r"C-sim library built for x86_64 on its aarch64 CPU") as raised:
        check_emulation_arch(board, _ArmBoard())  # type: ignore[arg-type]
    assert len(str(raised.value).splitlines()) == 1


def test_a_crashing_csim_library_in_an_emulation_is_the_designs_fault(
    bundle: BoardBundle, make_board: Callable[..., Board], config: Config, pool: BoardPool, tmp_path: Path
) -> None:
    """An emulation runs the design's C-sim; one that segfaults is the design's fault, not the board's."""
    import numpy as np

    from hil.bundle import write_bundle

    source = tmp_path / "crash.c"
    source.write_text("void myproject_float(float *in, float *out) { *(volatile int *)0 = 0; }\n")
    library = tmp_path / "crash.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    x = np.zeros((4, 1, 8, 8), dtype=np.float32)
    crashing = write_bundle(
        tmp_path / "crashing", design_key="c" * 64, board="loop", part="xczu7ev-ffvc1156-2-e", inputs=x,
        expected=np.zeros((4, 10), dtype=np.float32), clock_mhz=200.0, timing=bundle.timing,
        csim_library=library,
    )  # fmt: skip
    board = make_board()  # no host: the agent runs here, as a subprocess
    for _ in range(3):
        result = measure_bundle(board, crashing.path, config(emulate=True))  # type: ignore[arg-type]
        assert result.error_code is ErrorCode.DESIGN_FAULT and "C simulation crashed" in result.message
    assert not pool.health("loop").quarantined and pool.health("loop").consecutive_failures == 0


def test_an_overlay_that_finds_no_device_is_a_setup_fault(
    sshd: LoopbackSshd,
    overlay_bundle: BoardBundle,
    make_board: Callable[..., Board],
    config: Config,
    pool: BoardPool,
    pynq4_plain: str,
) -> None:
    """The real pynq 4.0 without a device ("No Devices Found", what a missing XILINX_XRT gives on a board)."""
    board = make_board(**sshd.board_fields(python=pynq4_plain))
    result = measure_bundle(board, overlay_bundle.path, config())  # type: ignore[arg-type]
    assert result.error_code is ErrorCode.BOARD_SETUP, result.message
    assert "set xrt: /usr" in result.message and len(result.message.splitlines()) == 1
    health = pool.health("loop")
    assert health.setup_required and not health.quarantined
