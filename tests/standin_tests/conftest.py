"""Fixtures for the stand-in tests: installed stand-ins per release, a runner, hls4ml projects."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.xilinx_standin import install

PYNQ_Z2 = "tul.com.tw:pynq-z2:part0:1.0"


@dataclass
class Done:
    """One finished tool run."""

    code: int
    out: str
    cwd: Path

    def calls(self) -> list[dict]:
        path = self.cwd / "standin_calls.jsonl"
        return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="session")
def xilinx_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("Xilinx")


@pytest.fixture(scope="session")
def bins(xilinx_root: Path) -> Callable[[str], list[Path]]:
    """``bins(release)``: the stand-in bin folders of ``release`` (installed once per session)."""
    cache: dict[str, list[Path]] = {}

    def get(release: str) -> list[Path]:
        if release not in cache:
            cache[release] = install(xilinx_root, release)
        return cache[release]

    return get


@pytest.fixture
def run(bins: Callable[[str], list[Path]], tmp_path: Path) -> Callable[..., Done]:
    """``run(release, *argv, cwd=None, env=None, script=None)``: run a stand-in tool from PATH.

    With ``script`` the text is written to ``<cwd>/s.tcl`` first.
    """

    def _run(
        release: str,
        *argv: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        script: str | None = None,
        timeout: float = 120,
    ) -> Done:
        folder = cwd or tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        if script is not None:
            (folder / "s.tcl").write_text(script)
        environ = {k: v for k, v in os.environ.items() if not k.startswith("HIL_STANDIN_")}
        environ["PATH"] = os.pathsep.join([*(str(b) for b in bins(release)), environ.get("PATH", "")])
        environ.update(env or {})
        try:
            done = subprocess.run(
                list(argv), cwd=folder, env=environ, capture_output=True, text=True, timeout=timeout
            )
        except FileNotFoundError as exc:  # the tool is not on PATH: what a shell reports as 127
            return Done(127, str(exc), folder)
        return Done(done.returncode, done.stdout + done.stderr, folder)

    return _run


@pytest.fixture
def vivado(run: Callable[..., Done]) -> Callable[..., Done]:
    """``vivado(release, script_text, env=...)``: ``vivado -mode batch -source s.tcl`` in a fresh folder."""

    def _vivado(release: str, script: str, **kw: object) -> Done:
        return run(release, "vivado", "-mode", "batch", "-source", "s.tcl", script=script, **kw)

    return _vivado


_PROBE = """import sys, json, warnings
warnings.filterwarnings("ignore")
from pynqmetadata.frontends import Metadata
try:
    from pynq.metadata.runtime_metadata_parser import RuntimeMetadataParser
except ImportError:
    from pynqmetadata.views.runtime import RuntimeMetadataParser
p = RuntimeMetadataParser(Metadata(input=sys.argv[1]))
print(json.dumps({k: {"type": v["type"], "phys_addr": v.get("phys_addr"),
                      "parameters": {a: str(b) for a, b in v.get("parameters", {}).items()}}
                  for k, v in p.ip_dict.items()}))
"""


@pytest.fixture(scope="session")
def pynq_ip_dicts() -> Callable[[Path], list[dict]]:
    """``pynq_ip_dicts(hwh)``: the ip_dict of every real pynq found in .venv/board* (skips without one)."""
    repo = Path(__file__).resolve().parents[2]
    pythons = [repo / f".venv/{v}/bin/python" for v in ("board", "board-pynq3")]
    pythons = [p for p in pythons if p.exists()]

    def parse(hwh: Path) -> list[dict]:
        if not pythons:
            pytest.skip("no pynq environment (.venv/board, .venv/board-pynq3)")
        out = []
        for python in pythons:
            done = subprocess.run(
                [str(python), "-c", _PROBE, str(hwh)], capture_output=True, text=True, timeout=180
            )
            assert done.returncode == 0, f"{python}: {done.stderr[-3000:]}"
            out.append(json.loads(done.stdout.strip().splitlines()[-1]))
        return out

    return parse


def _tiny_onnx():
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    rng = np.random.default_rng(0)
    w = numpy_helper.from_array(rng.random((4, 3)).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.random(3).astype(np.float32), "B")
    nodes = [helper.make_node("MatMul", ["x", "W"], ["t"]), helper.make_node("Add", ["t", "B"], ["y"])]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        [w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    return cleanup_model(ModelWrapper(model))


@pytest.fixture(scope="session")
def hls4ml_projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real hls4ml 1.3 projects (``write()`` only) of a tiny Dense model: Vitis and VivadoAccelerator."""
    hls4ml = pytest.importorskip("hls4ml")
    pytest.importorskip("qonnx")
    import contextlib
    import io

    model = _tiny_onnx()
    out: dict[str, Path] = {}
    base = tmp_path_factory.mktemp("hls4ml")
    with contextlib.redirect_stdout(io.StringIO()):
        cfg = hls4ml.utils.config_from_onnx_model(model, granularity="model", default_precision="fixed<16,6>")
        for backend, kw in (
            ("Vitis", {"part": "xczu7ev-ffvc1156-2-e"}),
            ("VivadoAccelerator", {"board": "pynq-z2"}),
        ):
            folder = base / backend
            hls_model = hls4ml.converters.convert_from_onnx_model(
                model, hls_config=cfg, output_dir=str(folder), backend=backend, io_type="io_stream", **kw
            )
            hls_model.write()
            out[backend] = folder
    return out


@pytest.fixture
def project_copy(hls4ml_projects: dict[str, Path], tmp_path: Path) -> Callable[[str], Path]:
    def _copy(backend: str) -> Path:
        dest = tmp_path / backend
        shutil.copytree(hls4ml_projects[backend], dest)
        return dest

    return _copy
