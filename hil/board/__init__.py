"""The board side of hil: the on-board agent, SSH deployment, board leases and emulation.

``agent.py`` runs on the board (standalone: numpy + pynq only). Everything else runs on the
host: ``measure_bundle`` leases a board from a ``BoardPool``, deploys a bundle through a target
(``SshTarget`` for a board with a host, ``LocalTarget`` for an emulated one), runs the agent and
returns one MeasureResult; ``build_for_measure`` makes the bundle ``hil measure`` needs.
"""

from hil.board._base import AgentRun, BaseTarget, agent_file
from hil.board._build import BUILDERS, BuildFailure, build_for_measure
from hil.board._fault import BOARD_FAULTS, BoardFault
from hil.board._local import LocalTarget
from hil.board._measure import MeasureConfig, check_board, make_target, measure_bundle
from hil.board._pool import BoardHealth, BoardPool, Lease, default_lease_dir
from hil.board._result import parse_agent_output, result_from_agent, run_provenance
from hil.board._ssh import SshTarget, check_remote_name
from hil.board._transfer import BASIS as EMULATION_BASIS
from hil.board._transfer import HOST_TRANSFER_MODELS, EmulatedTiming, HostTransferModel, emulated_timing

__all__ = [
    "AgentRun",
    "BaseTarget",
    "agent_file",
    "BUILDERS",
    "build_for_measure",
    "BuildFailure",
    "BOARD_FAULTS",
    "BoardFault",
    "LocalTarget",
    "SshTarget",
    "check_remote_name",
    "MeasureConfig",
    "measure_bundle",
    "check_board",
    "make_target",
    "BoardPool",
    "BoardHealth",
    "Lease",
    "default_lease_dir",
    "parse_agent_output",
    "result_from_agent",
    "run_provenance",
    "EMULATION_BASIS",
    "HOST_TRANSFER_MODELS",
    "HostTransferModel",
    "EmulatedTiming",
    "emulated_timing",
]
