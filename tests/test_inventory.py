"""inventory.yaml: shipped boards, BRAM unit conversion, validation errors, `hil boards`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from hil.errors import ConfigError
from hil.inventory import SHIPPED_INVENTORY, load_inventory
from tests._shared import REPO

DATASHEET = {
    "zcu104": ("xczu7ev-ffvc1156-2-e", 230400, 460800, 1728, 312, 96),
    "zcu102": ("xczu9eg-ffvb1156-2-e", 274080, 548160, 2520, 912, 0),
    "ultra96v2": ("xczu3eg-sbva484-1-e", 70560, 141120, 360, 216, 0),
    "pynq-z2": ("xc7z020clg400-1", 53200, 106400, 220, 140, 0),
    "kv260": ("xck26-sfvc784-2LV-c", 117120, 234240, 1248, 144, 64),
    "aup-zu3": ("xczu3eg-sfvc784-2-e", 70560, 141120, 360, 216, 0),
}


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _board(**resources: float) -> dict:
    return {"part": "xczu7ev-ffvc1156-2-e", "resources": resources, "clock_mhz": 200}


def test_shipped_inventory_has_the_datasheet_boards_all_emulated() -> None:
    inventory = load_inventory(SHIPPED_INVENTORY)
    assert set(inventory.boards) == set(DATASHEET)
    for name, (part, lut, ff, dsp, bram36, uram) in DATASHEET.items():
        board = inventory.board(name)
        assert board.part == part
        assert board.resources.as_dict() == {
            "lut": lut,
            "ff": ff,
            "dsp": dsp,
            "bram_18k": 2 * bram36,
            "uram": uram,
        }
        assert board.emulated and board.host is None
    assert inventory.farm.scheduler is None and inventory.farm.builder == "estimate"


def test_repo_inventory_matches_the_shipped_copy() -> None:
    assert load_inventory(REPO / "inventory.yaml").boards == load_inventory(SHIPPED_INVENTORY).boards


@pytest.mark.parametrize("bram36, expected", [(0, 0), (1, 2), (312, 624)])
def test_bram36_is_converted_to_18k_blocks(tmp_path: Path, bram36: int, expected: int) -> None:
    path = _write(tmp_path, {"boards": {"b": _board(lut=10, ff=10, dsp=0, bram36=bram36)}})
    resources = load_inventory(path).board("b").resources
    assert resources.bram_18k == expected
    # the boundary: a design using exactly 2 x bram36 blocks of 18 Kb fits, one more does not
    assert expected <= resources.bram_18k < expected + 1


@pytest.mark.parametrize(
    "board, fragment",
    [
        (
            _board(lut=0, ff=10, dsp=0, bram36=1),
            "board 'bad', field resources.lut: Input should be greater than 0",
        ),
        (_board(lut=10, ff=10, dsp=0), "board 'bad', field resources: missing bram36"),
        (_board(lut=10, ff=10, dsp=0, bram36=1, bram_18k=2), "give either bram36"),
        (_board(lut=10, ff=10, dsp=0, bram36=1.5), "bram36 must be a whole number"),
        ({**_board(lut=10, ff=10, dsp=0, bram36=1), "clock_mhz": -5}, "board 'bad', field clock_mhz"),
        (
            {**_board(lut=10, ff=10, dsp=0, bram36=1), "colour": "red"},
            "board 'bad', field colour: Extra inputs",
        ),
        ({**_board(lut=10, ff=10, dsp=0, bram36=1), "port": 70000}, "board 'bad', field port"),
    ],
)
def test_invalid_board_names_file_board_and_field(tmp_path: Path, board: dict, fragment: str) -> None:
    path = _write(tmp_path, {"boards": {"bad": board}})
    with pytest.raises(ConfigError) as info:
        load_inventory(path)
    assert str(path) in str(info.value) and fragment in str(info.value)


def test_invalid_farm_and_file_level_errors(tmp_path: Path) -> None:
    good = {"bad": _board(lut=10, ff=10, dsp=0, bram36=1)}
    with pytest.raises(ConfigError, match=r"field farm.scheduler: .*tcp://HOST:8786"):
        load_inventory(_write(tmp_path, {"boards": good, "farm": {"scheduler": "http://x"}}))
    with pytest.raises(ConfigError, match=r"field farm\.builder"):
        load_inventory(_write(tmp_path, {"boards": good, "farm": {"builder": "quartus"}}))
    with pytest.raises(ConfigError, match="non-empty 'boards'"):
        load_inventory(_write(tmp_path, {"boards": {}}))
    broken = tmp_path / "broken.yaml"
    broken.write_text("boards: [unclosed\n")
    with pytest.raises(ConfigError, match=r"broken.yaml:\d+: not valid YAML"):
        load_inventory(broken)
    with pytest.raises(ConfigError, match="inventory file not found"):
        load_inventory(tmp_path / "absent.yaml")


def test_unknown_board_lists_the_known_ones() -> None:
    with pytest.raises(
        ConfigError,
        match=r"unknown board 'zcu105'.*known boards: aup-zu3, kv260, pynq-z2, ultra96v2, zcu102, zcu104",
    ):
        load_inventory(SHIPPED_INVENTORY).board("zcu105")


def test_connection_fields_and_artifacts_resolve(tmp_path: Path) -> None:
    board = {**_board(lut=10, ff=10, dsp=0, bram36=1), "host": "lab.local", "key_file": "~/.ssh/id_ed25519"}
    inventory = load_inventory(_write(tmp_path, {"boards": {"real": board}, "farm": {"artifacts": "store"}}))
    real = inventory.board("real")
    assert not real.emulated and real.port == 22 and real.key_file == Path("~/.ssh/id_ed25519").expanduser()
    assert inventory.artifacts_dir == tmp_path.resolve() / "store"


def test_hil_boards_json_and_table(run_cli, tmp_path: Path) -> None:
    code, out, _ = run_cli("boards", "--json", "--inventory", SHIPPED_INVENTORY)
    assert code == 0
    rows = {row["board"]: row for row in json.loads(out)["boards"]}
    assert rows["zcu104"]["bram_18k"] == 624 and rows["zcu104"]["emulated"] is True
    code, out, _ = run_cli("boards", "--inventory", SHIPPED_INVENTORY)
    assert code == 0 and "xczu7ev-ffvc1156-2-e" in out and "230,400" in out and "emulated" in out
    bad = _write(tmp_path, {"boards": {"bad": _board(lut=-1, ff=10, dsp=0, bram36=1)}})
    code, out, err = run_cli("boards", "--inventory", bad)
    assert code == 2 and out == ""
    assert (
        err.count("\n") == 1 and err.startswith("hil: error: ") and "board 'bad', field resources.lut" in err
    )


def test_farm_shared_artifacts_flag(tmp_path: Path) -> None:
    board = {"b": _board(lut=10, ff=10, dsp=0, bram36=1)}
    assert load_inventory(_write(tmp_path, {"boards": board})).farm.shared_artifacts is False
    shared = load_inventory(_write(tmp_path, {"boards": board, "farm": {"shared_artifacts": True}}))
    assert shared.farm.shared_artifacts is True
