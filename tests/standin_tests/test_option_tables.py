"""Every vendor command of every tool checks its options: an unknown option is an error in its words."""

from __future__ import annotations

import pytest

from tests.xilinx_standin._tcl_runtime import Runtime


def _runtime(tool: str, release: str, tmp_path, monkeypatch) -> Runtime:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HIL_STANDIN_RECORD", str(tmp_path / "calls.jsonl"))
    rt = Runtime(tool, release, None, vivado_style=tool == "vivado")
    if tool == "vivado":
        from tests.xilinx_standin._vivado import VivadoTool

        VivadoTool(rt)
    else:
        from tests.xilinx_standin._hls import HlsTool

        HlsTool(rt)
    return rt


@pytest.mark.parametrize(
    ("tool", "release"),
    [("vivado", "2020.1"), ("vivado", "2024.2"), ("vitis_hls", "2024.2"), ("vivado_hls", "2020.1")],
)
def test_unknown_option_on_every_command(tool, release, tmp_path, monkeypatch, capsys) -> None:
    rt = _runtime(tool, release, tmp_path, monkeypatch)
    assert len(rt.specs) > (80 if tool == "vivado" else 30)
    for name, sp in rt.specs.items():
        assert sp.doc.startswith(("UG835", "UG1399", "UG902")), name
        msg = rt.tcl.eval(f"catch {{{name} -hil_no_such_option}} m; set m")
        if tool == "vivado":
            want = f"[Common 17-170] Unknown option '-hil_no_such_option', please type '{name} -help'"
            assert msg == want + " for usage info."
        else:
            assert msg.startswith(f"[HLS 200-101] '{name}': Unknown option '-hil_no_such_option'"), (
                name,
                msg,
            )
    assert "ERROR: [" in capsys.readouterr().out  # each failure is also printed, as the tools do


def test_vivado_accepts_unambiguous_prefixes_and_quiet(tmp_path, monkeypatch) -> None:
    rt = _runtime("vivado", "2024.2", tmp_path, monkeypatch)
    rt.tcl.eval("create_project -in_mem p")
    assert rt.tcl.eval("current_project -quiet") == "p"
    assert "Multiple matches" in rt.tcl.eval("catch {create_project -i q} m; set m")  # -in_memory / -ip
