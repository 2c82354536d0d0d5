"""The Tcl runtime: real Tcl builtins, errors and exit codes as in batch mode, logs, the call record."""

from __future__ import annotations

from tests.xilinx_standin import RELEASES, install, tool_paths


def test_install_layout_per_release(tmp_path) -> None:
    bins = install(tmp_path, "2020.1")
    assert bins == [tmp_path / "Vivado/2020.1/bin"]
    assert {p.name for p in bins[0].iterdir()} == {"vivado", "vivado_hls"}
    bins = install(tmp_path, "2024.2")
    assert bins == [
        tmp_path / "Vivado/2024.2/bin",
        tmp_path / "Vitis_HLS/2024.2/bin",
        tmp_path / "Vitis/2024.2/bin",
    ]
    assert not (tmp_path / "Vitis/2023.1/bin/vitis-run").exists()
    assert "vitis-run" not in tool_paths(tmp_path, "2023.1") and "vitis-run" in tool_paths(tmp_path, "2023.2")
    bins = install(tmp_path, "2025.1")
    assert bins[0] == tmp_path / "2025.1/Vivado/bin" and (tmp_path / "2025.1/Vitis/bin/vitis-run").is_file()
    assert "2025.1" in RELEASES


def test_version_and_banner(run) -> None:
    done = run("2024.2", "vivado", "-version")
    assert done.code == 0 and "Vivado v2024.2" in done.out and "stand-in" in done.out
    done = run("2024.2", "vitis-run", "--version")
    assert done.code == 0 and "v2024.2" in done.out
    done = run("2024.2", "vivado", "-mode", "batch", "-source", "s.tcl", script="puts hello\n")
    assert done.out.startswith("INFO: [hil-standin] this is a stand-in for vivado 2024.2")
    assert "hello" in (done.cwd / "vivado.log").read_text()


def test_tcl_builtins_source_info_script_and_argv(run, tmp_path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inc.tcl").write_text(
        "set here [file dirname [info script]]\nproc twice {x} {expr {2*$x}}\n"
    )
    script = (
        "source [file join [file dirname [info script]] sub inc.tcl]\n"
        'puts "here=[file tail $here] twice=[twice 21] argv=$argv argc=$argc"\n'
        "foreach f [glob -dir sub *.tcl] { puts [file tail $f] }\n"
        'if {[catch {error boom} msg]} { puts "caught $msg" }\n'
        "array set a {x 1}; puts [clock format 0 -gmt 1 -format %Y]\n"
    )
    done = run(
        "2024.2", "vivado", "-mode", "batch", "-source", "s.tcl", "-tclargs", "a", "b c", script=script
    )
    assert done.code == 0, done.out
    assert "here=sub twice=42 argv=a {b c} argc=2" in done.out
    assert "inc.tcl" in done.out and "caught boom" in done.out and "1970" in done.out


def test_uncaught_error_exits_1_and_exit_code_is_kept(run) -> None:
    done = run(
        "2024.2",
        "vivado",
        "-mode",
        "batch",
        "-source",
        "s.tcl",
        script="puts before\nno_such_cmd 1\nputs after\n",
    )
    assert (
        done.code == 1 and 'ERROR: invalid command name "no_such_cmd"' in done.out and "after" not in done.out
    )
    assert 'invalid command name "no_such_cmd"' in (done.cwd / "vivado.log").read_text()
    done = run(
        "2024.2", "vivado", "-mode", "batch", "-source", "s.tcl", script="puts x\nexit 3\nputs never\n"
    )
    assert done.code == 3 and "never" not in done.out and "Exiting Vivado" in done.out
    done = run(
        "2024.2", "vivado", "-mode", "batch", "-source", "s.tcl", script="catch {exit 4}\nputs never\n"
    )
    assert done.code == 4  # exit is not catchable, as in the real tools
    done = run("2024.2", "vivado_hls", "-f", "x.tcl")
    assert done.code == 127  # no vivado_hls in 2024.2
    done = run("2020.1", "vivado_hls", "-f", "s.tcl", script="quit\n")
    assert done.code == 0 and (done.cwd / "vivado_hls.log").is_file()


def test_unknown_cli_flags_fail(run) -> None:
    assert run("2024.2", "vivado", "-mode", "batch", "-sauce", "x.tcl").code == 1
    assert run("2024.2", "vivado", "-mode", "batch", "-source", "missing.tcl").code == 1
    assert run("2024.2", "vitis-run", "--mode", "hls", "--tcll", "x.tcl").code == 1
    assert run("2024.2", "vitis-run", "--tcl", "x.tcl").code == 1  # --mode hls is required
    assert run("2024.2", "vitis_hls", "-q", "x.tcl").code == 1


def test_call_record(run) -> None:
    done = run(
        "2024.2",
        "vivado",
        "-mode",
        "batch",
        "-source",
        "s.tcl",
        script="create_project -in_memory p\ncatch {create_project -bogus q}\n",
    )
    calls = done.calls()
    assert calls[0]["tool"] == "vivado" and calls[0]["release"] == "2024.2"
    assert calls[0]["command"] == "create_project" and calls[0]["args"] == ["-in_memory", "p"]
    assert any("Unknown option '-bogus'" in c.get("error", "") for c in calls)


def test_vivado_source_takes_its_options(run, tmp_path) -> None:
    (tmp_path / "inc.tcl").write_text('puts "in [file tail [info script]]"\n')
    done = run(
        "2024.2",
        "vivado",
        "-mode",
        "batch",
        "-source",
        "s.tcl",
        script="source -notrace inc.tcl\nputs back=[file tail [info script]]\n",
    )
    assert done.code == 0 and "in inc.tcl" in done.out and "back=s.tcl" in done.out
