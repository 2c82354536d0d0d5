"""hls4ml's build_lib.sh with both translation units compiled at once: same result, same failures."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hil.convert._csim import parallel_build_script

_SCRIPT = """#!/bin/bash
set -e

CC=./cc
CFLAGS="-O3"
PROJECT=myproject

${{CC}} ${{CFLAGS}} -c firmware/${{PROJECT}}.cpp -o ${{PROJECT}}.o
${{CC}} ${{CFLAGS}} -c ${{PROJECT}}_bridge.cpp -o ${{PROJECT}}_bridge.o
echo linked > {linked}
"""

# A stand-in compiler: records its start, sleeps, fails for a file named in $FAIL.
_CC = """#!/bin/bash
echo "start $3 $(date +%s.%N)" >> log
sleep 1
[ "$3" != "$FAIL" ] || exit 1
echo "end $3 $(date +%s.%N)" >> log
"""


def _run(tmp_path: Path, fail: str = "") -> subprocess.CompletedProcess[str]:
    (tmp_path / "cc").write_text(_CC)
    (tmp_path / "cc").chmod(0o755)
    script = tmp_path / "build_lib.sh"
    script.write_text(parallel_build_script(_SCRIPT.format(linked="linked")))
    return subprocess.run(
        ["bash", str(script)],
        cwd=tmp_path,
        env={"FAIL": fail, "PATH": "/usr/bin:/bin"},
        text=True,
        check=False,
    )


def test_both_compiles_overlap_then_link(tmp_path: Path) -> None:
    assert _run(tmp_path).returncode == 0
    log = (tmp_path / "log").read_text().splitlines()
    starts = [float(line.split()[2]) for line in log if line.startswith("start")]
    assert len(starts) == 2 and abs(starts[0] - starts[1]) < 0.5  # the second did not wait 1 s for the first
    assert (tmp_path / "linked").read_text().strip() == "linked"


@pytest.mark.parametrize("fail", ["firmware/myproject.cpp", "myproject_bridge.cpp"])
def test_a_failing_compile_fails_the_script_before_the_link(tmp_path: Path, fail: str) -> None:
    assert _run(tmp_path, fail).returncode != 0
    assert not (tmp_path / "linked").exists()


def test_a_script_of_another_shape_is_left_alone() -> None:
    script = _SCRIPT.format(linked="linked")
    assert parallel_build_script(script) != script  # the expected shape is changed ...
    three = script.replace("echo linked", "${CC} -c extra.cpp -o extra.o\necho linked")
    assert parallel_build_script(three) == three  # ... another one is not
    unsafe = script.replace("set -e\n", "")  # without set -e a failed compile would go unnoticed
    assert parallel_build_script(unsafe) == unsafe
