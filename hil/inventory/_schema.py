"""Pydantic models of inventory.yaml: boards (part, resources, clock, connection) and the farm.

Why convert BRAM at load: datasheets and the inventory give 36 Kb blocks, hls4ml and Vivado
reports count 18 Kb blocks. Converting once here means every later comparison is in the same
unit (``bram_18k``) and no caller can forget the factor of two.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator, model_validator

__all__ = ["Resources", "Board", "Farm", "FarmTls", "Inventory"]

_SCHEDULER = re.compile(r"^(tcp|tls)://[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")


class Resources(BaseModel):
    """A part's resources. ``bram_18k`` is in 18 Kb blocks (twice the datasheet's 36 Kb count)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lut: PositiveInt
    ff: PositiveInt
    dsp: int = Field(ge=0)
    bram_18k: int = Field(ge=0)
    uram: int = Field(default=0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _bram36_to_18k(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "bram36" in data:
            if "bram_18k" in data:
                raise ValueError("give either bram36 (36 Kb blocks, as on datasheets) or bram_18k, not both")
            bram36 = data.pop("bram36")
            if isinstance(bram36, bool) or not isinstance(bram36, int) or bram36 < 0:
                raise ValueError(f"bram36 must be a whole number of 36 Kb blocks >= 0, got {bram36!r}")
            data["bram_18k"] = 2 * bram36
        elif "bram_18k" not in data:
            raise ValueError("missing bram36 (36 Kb BRAM blocks, as on the datasheet)")
        return data

    def as_dict(self) -> dict[str, int]:
        """Resources in canonical metric keys."""
        return {"lut": self.lut, "ff": self.ff, "dsp": self.dsp, "bram_18k": self.bram_18k, "uram": self.uram}


class Board(BaseModel):
    """One board. Without ``host`` it is emulated: the same agent, run locally or over loopback SSH."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    part: str = Field(min_length=4)
    resources: Resources
    clock_mhz: float = Field(gt=0, le=1000)
    host: str | None = None
    port: int = Field(default=22, ge=1, le=65535)
    user: str = "xilinx"
    key_file: Path | None = None
    known_hosts: Path | None = None
    python: str = "/usr/local/share/pynq-venv/bin/python3"
    workdir: str = "/home/xilinx/hil"
    #: How the agent gets the root PYNQ needs for overlays, MMIO and DMA: ``sudo`` (``sudo -n``:
    #: the login user needs a password-less sudoers rule for the agent's command; `hil boards
    #: --check` prints it), ``root`` (log in as root: ``user: root``) or ``user`` (no root: only an
    #: emulation works). PYNQ's images (2.7 to 4.0) log in as xilinx with a password on sudo.
    run_as: Literal["sudo", "root", "user"] = "sudo"
    #: XILINX_XRT for the agent (PYNQ's /etc/profile.d/xrt_setup.sh sets /usr; a non-interactive SSH
    #: command reads no profile script, so the agent sets it); null leaves it unset.
    xrt: str | None = "/usr"
    #: The PYNQ release on the board's image (``3.1``): `hil boards --check` compares it with what
    #: the board's pynq says; null accepts any.
    pynq: str | None = None
    #: The board name PYNQ reports (``/proc/device-tree/chosen/pynq_board``, e.g. ``ZCU104``);
    #: null: the inventory name, compared ignoring case, ``-`` and ``_``.
    pynq_board: str | None = None
    #: Block-design data overriding (or, for a board hil does not know, giving) the shipped
    #: ``hil/data/board_builds.yaml`` entry: board_part, ps, pl_clock_mhz, pynq, ps_config.
    build: dict[str, Any] | None = None

    @property
    def emulated(self) -> bool:
        """True when no host is configured: numbers from this board are labelled emulated."""
        return self.host is None

    @field_validator("part")
    @classmethod
    def _strip_part(cls, part: str) -> str:
        # Vivado part names are case-sensitive (xck26-sfvc784-2LV-c): keep the case as given.
        return part.strip()

    @field_validator("key_file", "known_hosts")
    @classmethod
    def _expand_user(cls, path: Path | None) -> Path | None:
        return None if path is None else path.expanduser()


class FarmTls(BaseModel):
    """The coordinator's TLS files for a ``tls://`` scheduler (``hil farm certs DIR`` makes them).

    Relative paths resolve against the inventory file's folder. The key is a secret: whoever
    holds a certificate signed by the farm's CA can run code on every build host.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The farm's CA certificate (PEM): peers must present a certificate it signed.
    ca_file: Path
    #: This client's certificate (PEM), signed by the CA.
    cert_file: Path
    #: This client's private key (PEM; keep it mode 0600).
    key_file: Path


class Farm(BaseModel):
    """Where builds run: a local dask cluster (scheduler null) or a farm's dask scheduler."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: ``tls://HOST:8786`` (with ``tls``), ``tcp://127.0.0.1:8786`` (loopback only, unless
    #: ``hil farm run --insecure``), or null for a local cluster.
    scheduler: str | None = None
    #: Certificates for a ``tls://`` scheduler.
    tls: FarmTls | None = None
    artifacts: Path = Path("bitstreams")
    builder: Literal["estimate", "vivado"] = "estimate"
    #: True when every build host mounts ``artifacts`` (NFS, ...): workers then write builds there
    #: directly instead of sending them back to the coordinator.
    shared_artifacts: bool = False
    #: Tool versions the farm's workers must have (``{vivado: "2023.2"}``): they enter the build
    #: key, and a worker with other versions refuses the job. Undeclared tools are expected at
    #: the versions of the host that makes the job.
    tools: dict[str, str] = Field(default_factory=dict)
    #: A process using the ledger (``hil farm run``, ``hil build``, ``hil measure``) is presumed
    #: dead, and its claimed jobs are re-queued, when its heartbeat is older than this (seconds).
    heartbeat_limit_s: float = Field(default=60.0, gt=0, le=86400)
    #: Largest build archive (a worker's build, or a kept failed build) the coordinator unpacks,
    #: in GiB; ``HIL_FARM_MAX_ARCHIVE_BYTES`` sets it when the inventory does not.
    max_archive_gib: float | None = Field(default=None, gt=0)
    #: The AMD tools on this host's PATH are stand-ins (tests, rehearsals): every number their
    #: builds report is labelled ``standin`` and their keys differ from real builds'. The same
    #: as HIL_STANDIN_TOOLS=1 in the environment (which a remote worker needs in its own).
    standin_tools: bool = False

    @field_validator("scheduler")
    @classmethod
    def _scheduler_address(cls, address: str | None) -> str | None:
        if address is not None and not _SCHEDULER.match(address):
            raise ValueError(f"scheduler must look like tls://HOST:8786 or tcp://HOST:8786, got {address!r}")
        return address

    @field_validator("tools", mode="before")
    @classmethod
    def _versions_as_text(cls, tools: Any) -> Any:
        # YAML reads `vivado: 2023.2` as a float; a release is a name, so keep it as text.
        if isinstance(tools, dict):
            return {str(k): v if isinstance(v, str) else str(v) for k, v in tools.items()}
        return tools

    @model_validator(mode="after")
    def _tls_scheduler_has_certificates(self) -> Farm:
        if self.scheduler is not None and self.scheduler.startswith("tls://") and self.tls is None:
            raise ValueError(
                f"scheduler {self.scheduler} needs farm.tls (ca_file, cert_file, key_file); "
                "`hil farm certs DIR` makes them"
            )
        return self


class Inventory(BaseModel):
    """The whole inventory file, with the path it was read from (relative paths resolve there)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    boards: dict[str, Board]
    farm: Farm = Farm()
    source: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _name_boards(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("boards"), dict):
            boards = {}
            for name, entry in data["boards"].items():
                boards[name] = {**entry, "name": name} if isinstance(entry, dict) else entry
            data = {**data, "boards": boards}
        return data

    def board(self, name: str) -> Board:
        """The named board, or a ConfigError listing the known ones."""
        from hil.errors import ConfigError

        try:
            return self.boards[name]
        except KeyError:
            where = f" in {self.source}" if self.source else ""
            raise ConfigError(
                f"unknown board {name!r}{where}; known boards: {', '.join(sorted(self.boards))}"
            ) from None

    @property
    def artifacts_dir(self) -> Path:
        """The artifact store, resolved against the inventory file's folder."""
        path = self.farm.artifacts.expanduser()
        if path.is_absolute() or self.source is None:
            return path
        return self.source.parent / path
