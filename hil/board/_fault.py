"""BoardFault: a board-side failure that carries the error code its MeasureResult records.

Why an exception with a code: the transport and the runners fail in many places (connect,
upload, run, collect); raising one type that already knows its ``ErrorCode`` lets the measure
orchestration turn any of them into one result with a one-line message, instead of a traceback.
"""

from __future__ import annotations

from hil.errors import BoardError
from hil.records import ErrorCode

__all__ = ["BOARD_FAULTS", "DESIGN_FAULTS", "SETUP_FAULTS", "BoardFault"]

#: Codes that say the board or its link (not the design) failed: they count towards quarantine.
#: DESIGN_FAULT, WRONG_ANSWER and LOW_AGREEMENT are the design's: a board that ran it and reported
#: them worked. BOARD_SETUP is neither flaky nor the design's: it stops the board at once, with its
#: message, until ``hil boards --check`` passes (``SETUP_FAULTS``).
BOARD_FAULTS = frozenset({ErrorCode.BOARD_UNREACHABLE, ErrorCode.DEPLOY, ErrorCode.RUN_TIMEOUT})
SETUP_FAULTS = frozenset({ErrorCode.BOARD_SETUP})
DESIGN_FAULTS = frozenset({ErrorCode.DESIGN_FAULT, ErrorCode.WRONG_ANSWER, ErrorCode.LOW_AGREEMENT})


class BoardFault(BoardError):
    """A failure on the way to, or on, a board.

    Attributes:
        code: the ``ErrorCode`` of the result this failure becomes.
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        # One line: the CLI and the records show it as is.
        super().__init__(" ".join(message.split()))
        self.code = code
