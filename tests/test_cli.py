"""The CLI shell: usage errors, help, multi-value options, unexpected errors as one line."""

from __future__ import annotations

import pytest

from hil.cli._app import expand_multi_value_options


def test_usage_errors_exit_2_without_traceback(run_cli) -> None:
    code, _out, err = run_cli("convert")
    assert code == 2 and "Missing argument" in err and "Traceback" not in err
    code, _out, err = run_cli("boards", "--bogus")
    assert code == 2 and "No such option" in err


def test_help_exits_0(run_cli) -> None:
    code, out, _ = run_cli("--help")
    assert code == 0 and "convert" in out and "boards" in out


@pytest.mark.parametrize(
    "args, expected",
    [
        (["cv", "--data", "a", "b", "--json"], ["cv", "--data", "a", "--data", "b", "--json"]),
        (["cv", "--data", "a", "--data", "b"], ["cv", "--data", "a", "--data", "b"]),
        (
            ["check", "--json", "--data", "a", "b", "c"],
            ["check", "--json", "--data", "a", "--data", "b", "--data", "c"],
        ),
        (["convert", "m.onnx", "--board", "zcu104"], ["convert", "m.onnx", "--board", "zcu104"]),
    ],
)
def test_multi_value_options_are_expanded(args: list[str], expected: list[str]) -> None:
    assert expand_multi_value_options(args) == expected


def test_unexpected_exception_is_one_line_exit_3(run_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import hil.inventory

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("hil.cli._boards.load_inventory", broken)
    code, out, err = run_cli("boards")
    assert code == 3 and out == ""
    assert err.strip() == "hil: internal error: RuntimeError: simulated bug (run with -v for the traceback)"
    assert hil.inventory.load_inventory is not broken
