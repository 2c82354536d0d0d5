"""Command lines of the stand-in tools, as documented:

- ``vivado`` (UG835 "Launching Vivado" / ``vivado -help``; UG894): ``-mode batch|tcl|gui``, ``-source F``,
  ``-tclargs ...`` (the rest of the line goes to ``$argv``), ``-nojournal``, ``-nolog``, ``-log F``,
  ``-journal F``, ``-notrace``, ``-version``, ``-tempDir D``, ``-applog``, ``-help``. Log ``vivado.log`` and
  journal ``vivado.jou`` in the cwd.
- ``vitis_hls`` (UG1399 "vitis_hls Command"): ``-f F``, ``-l LOG``, ``-i``, ``-n|-nosplash``, ``-p P``,
  ``-version``, ``-help``; log ``vitis_hls.log``. Arguments after the script go to ``$argv``.
- ``vivado_hls`` (UG902 "vivado_hls command"): the same switches; log ``vivado_hls.log``. hls4ml passes
  its options as one string (``"reset=1 csim=0 ..."``): it is one element of ``$argv``, which
  hls4ml's ``build_prj.tcl`` scans with ``regexp``.
- ``vitis-run`` (UG1702 "vitis-run Command"): ``--mode hls`` (the only mode), ``--tcl F``,
  ``--work_dir D``, ``--config F``, ``--csim/--cosim/--package/--impl``, ``-h|--help``, ``-v|--version``.
  Only the ``--tcl`` form runs a script here; the config-file forms are refused (not modelled). Log
  ``vitis_hls.log`` in the work dir (the cwd when none is given).
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.xilinx_standin._catalog import release_key
from tests.xilinx_standin._reports import hls_build, vivado_build
from tests.xilinx_standin._tcl_runtime import Runtime


def _banner(rt: Runtime | None, tool: str, release: str) -> None:
    line = f"INFO: [hil-standin] this is a stand-in for {tool} {release}"
    if rt is None:
        print(line, flush=True)
    else:
        rt.say(line)


def _fail(tool: str, text: str) -> int:
    print(f"ERROR: [{tool}] {text}", flush=True)
    return 1


def main(tool: str, release: str, argv: list[str]) -> int:
    """Run ``tool`` of ``release`` with command line ``argv``; returns the exit status."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None:
        reconfigure(line_buffering=True)
    if tool == "vivado":
        return _vivado(release, argv)
    if tool == "vitis-run":
        return _vitis_run(release, argv)
    return _hls(tool, release, argv)


def _vivado(release: str, argv: list[str]) -> int:
    mode, sources, tclargs = "gui", [], []
    log: str | None = "vivado.log"
    i = 0
    values = {"-mode", "-source", "-log", "-journal", "-tempDir", "-stack"}
    flags = {"-nojournal", "-nolog", "-notrace", "-applog", "-m64", "-m32"}
    opts: dict[str, str] = {}
    while i < len(argv):
        arg = argv[i]
        if arg == "-tclargs":
            tclargs = argv[i + 1 :]
            break
        if arg in ("-version", "--version"):
            print(
                f"Vivado v{release} (64-bit)\nSW Build {vivado_build(release)}\n"
                "INFO: [hil-standin] this is a stand-in for vivado, not AMD's tool",
                flush=True,
            )
            return 0
        if arg in ("-help", "-h", "--help"):
            print(
                "Usage: vivado [-mode <batch|tcl|gui>] [-source <file>] [-tclargs <args>] [-nojournal] "
                "[-nolog] [-log <file>] [-journal <file>] [-notrace] [-version] [<project>.xpr]"
            )
            return 0
        if arg in values:
            if i + 1 >= len(argv):
                return _fail("Common 17-163", f"Missing value for option '{arg}'")
            opts[arg] = argv[i + 1]
            if arg == "-source":
                sources.append(argv[i + 1])
            i += 2
            continue
        if arg in flags:
            opts[arg] = "1"
            i += 1
            continue
        if arg.startswith("-"):
            return _fail(
                "Common 17-170", f"Unknown option '{arg}', please type 'vivado -help' for usage info."
            )
        if arg.endswith((".xpr", ".dcp")):
            opts["project"] = arg
            i += 1
            continue
        return _fail("Common 17-165", f"Too many positional options when parsing '{arg}'")
    mode = opts.get("-mode", mode)
    if mode not in ("batch", "tcl", "gui"):
        return _fail("Common 17-170", f"Invalid mode '{mode}': expected batch, tcl or gui")
    if mode == "gui":
        return _fail("hil-standin", "the stand-in has no GUI: use -mode batch -source <script>")
    if "-nolog" in opts:
        log = None
    elif "-log" in opts:
        log = opts["-log"]
    if "-nojournal" not in opts:
        Path(opts.get("-journal", "vivado.jou")).write_text(
            f"#-----------------------------------------------------------\n# Vivado v{release} (64-bit)\n"
            f"# hil stand-in journal\n# Start of session at: stand-in\n"
            "#-----------------------------------------"
            "------------------\n"
        )
    from tests.xilinx_standin._vivado import VivadoTool

    rt = Runtime("vivado", release, Path(log) if log else None, vivado_style=True)
    _banner(rt, "vivado", release)
    rt.say(
        f"\n****** Vivado v{release} (64-bit)\n  **** SW Build {vivado_build(release)}\n"
        "    ** Copyright 1986-2022 Xilinx, Inc. All Rights Reserved. (hil stand-in)\n"
    )
    rt.set_argv(sys.argv[0], tclargs)
    VivadoTool(rt)
    code = 0
    for src in sources:
        rt.say(f"source {src}")
        if not Path(src).is_file():
            rt.say(f"ERROR: [Common 17-69] Command failed: File '{src}' does not exist")
            code = 1
            break
        code = rt.source(Path(src))
        if code:
            break
    rt.finish(code)
    return code


def _hls(tool: str, release: str, argv: list[str]) -> int:
    script, log, extra = None, f"{tool}.log", []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-version", "--version"):
            name = "Vitis HLS" if tool == "vitis_hls" else "Vivado HLS"
            print(
                f"{name} - High-Level Synthesis from C, C++ and OpenCL v{release} (64-bit)\n"
                f"SW Build {hls_build(release)}\nINFO: [hil-standin] this is a stand-in, not AMD's tool",
                flush=True,
            )
            return 0
        if arg in ("-help", "-h"):
            print(f"Usage: {tool} [-f <script>] [-l <log>] [-i] [-n] [-p <project>] [-version] [args...]")
            return 0
        if arg in ("-f", "-l", "-p"):
            if i + 1 >= len(argv):
                return _fail("HLS 200-101", f"Missing value for option '{arg}'")
            if arg == "-f":
                script = argv[i + 1]
            elif arg == "-l":
                log = argv[i + 1]
            i += 2
            continue
        if arg in ("-i", "-n", "-nosplash"):
            i += 1
            continue
        if arg == "-tclargs":
            extra += argv[i + 1 :]
            break
        if arg.startswith("-") and script is None:
            return _fail("HLS 200-101", f"Unknown option '{arg}'. Please type '{tool} -help' for usage.")
        extra.append(arg)
        i += 1
    if script is None:
        return _fail("hil-standin", "interactive and GUI modes are not modelled: use -f <script>")
    return _run_hls(tool, release, Path(script), Path(log), extra)


def _run_hls(tool: str, release: str, script: Path, log: Path, extra: list[str]) -> int:
    from tests.xilinx_standin._hls import HlsTool

    rt = Runtime(tool, release, log, vivado_style=False)
    _banner(rt, tool, release)
    name = "Vitis HLS" if tool != "vivado_hls" else "Vivado(TM) HLS"
    rt.say(
        f"\n****** {name} - High-Level Synthesis from C, C++ and OpenCL v{release} (64-bit)\n"
        f"  **** SW Build {hls_build(release)}\n    ** (hil stand-in)\n"
    )
    rt.set_argv(tool, extra)
    if tool == "vitis_hls" and release_key(release) >= (2023, 2):
        rt.warning(
            "hil-standin",
            "UG1399 (2023.2+): the standalone vitis_hls executable is deprecated; "
            "use 'vitis-run --mode hls --tcl <script>'",
        )
    HlsTool(rt)
    if not script.is_file():
        rt.say(f"ERROR: [HLS 200-1] Cannot find the script file '{script}'.")
        rt.finish(1)
        return 1
    rt.info("HLS 200-10", f"Running '{script}'")
    code = rt.source(script)
    rt.finish(code)
    return code


def _vitis_run(release: str, argv: list[str]) -> int:
    opts: dict[str, str] = {}
    i = 0
    takes = {"--mode", "--tcl", "--work_dir", "--config", "--input_file", "--log"}
    flags = {"--csim", "--cosim", "--package", "--impl", "--itemize", "--source_file"}
    while i < len(argv):
        arg = argv[i]
        if arg in ("-v", "--version"):
            print(
                f"****** vitis-run v{release} (64-bit)\n  **** SW Build {hls_build(release)}\n"
                "INFO: [hil-standin] this is a stand-in, not AMD's tool",
                flush=True,
            )
            return 0
        if arg in ("-h", "--help"):
            print(
                "Usage: vitis-run --mode hls [--tcl <script> | --csim | --cosim | --package | --impl] "
                "[--config <cfg>] [--work_dir <dir>]"
            )
            return 0
        name, _, inline = arg.partition("=")
        if name in takes:
            if inline:
                opts[name] = inline
                i += 1
            elif i + 1 < len(argv):
                opts[name] = argv[i + 1]
                i += 2
            else:
                return _fail("vitis-run", f"the required argument for option '{name}' is missing")
            continue
        if arg in flags:
            opts[arg] = "1"
            i += 1
            continue
        return _fail("vitis-run", f"unrecognised option '{arg}'")
    if opts.get("--mode") != "hls":
        return _fail("vitis-run", "the option '--mode' is required: only '--mode hls' is supported")
    if "--tcl" not in opts:
        return _fail("hil-standin", "only 'vitis-run --mode hls --tcl <script>' is modelled by the stand-in")
    work = Path(opts.get("--work_dir", "."))
    work.mkdir(parents=True, exist_ok=True)
    return _run_hls("vitis-run", release, Path(opts["--tcl"]), work / "vitis_hls.log", [])
