"""Budget where it matters: stop unpromising candidates after an epoch (Optuna's pruners).

Why: every candidate used to train the full recipe, so a search paid as much for a network that is
hopeless after one epoch as for the one it will keep. With ``--pruner halving`` (Optuna's
asynchronous ``SuccessiveHalvingPruner``) or ``hyperband`` (``HyperbandPruner``), a candidate
reports its validation accuracy after every epoch but the last, and stops when the pruner says it is
not among the best ``1 / REDUCTION_FACTOR`` of the candidates that reached the same epoch.

The choice of resources: ``min_resource`` = 1 epoch (the first rung is one epoch: on the search's
short recipes, 2 to 8 epochs, anything larger leaves no rung below the last epoch) and
``reduction_factor`` = 3 (the Hyperband paper's eta; a third go on at each rung: for 3 epochs, a
third train all 3 and the rest stop after 1, about 1.7 epochs a candidate; for 9 epochs the rungs
are epochs 1 and 3). Nothing is judged after the last epoch: by then the compute is spent.
``bootstrap_count`` stays 0 (Optuna's bootstrap *prunes* every candidate until that many reached a
rung), so, as in ASHA, the first candidates at a rung are kept only while they are the best.

Why a sample-epoch budget: the point of stopping early is breadth, so with a pruner the search
keeps asking for candidates until it has spent the sample-epochs that ``trials`` full trainings
would have cost (``trials x epochs x images``), instead of stopping at ``trials`` candidates. The
last candidate trains only the epochs the budget has left (``halted_by`` ``budget``), so a search
spends its budget exactly, never more. Sample-epochs count training only: each judged epoch also
costs one inference pass over the validation split (what every candidate already pays once at its
end), which shows in the CPU seconds the report states beside them.

What a halted candidate is: an Optuna PRUNED trial (``TrialState.PRUNED``; its value is the
accuracy it reported last, which is how Optuna's TPE ranks it: below every completed trial), with
``halted_at_epoch`` and ``halted_by`` in its attributes and exactly the sample-epochs it trained. It
counts as trained compute but is never ranked, gated or retrained: its accuracy is that of a
shorter training than the designs it would be compared with. (The ``separate`` baseline's walk does
take a halted float architecture, after every fully trained one: ``PhaseResult.walk_order``.)
The RL controller is told its partial validation accuracy (when it fits the spec), a lower bound of
what it would have reached and, by construction, below the candidates that went on from the same
rung.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import optuna

from hil.errors import InputError

__all__ = [
    "MIN_RESOURCE_EPOCHS",
    "PRUNERS",
    "REDUCTION_FACTOR",
    "EpochJudge",
    "check_pruner",
    "make_pruner",
]

_log = logging.getLogger(__name__)

#: ``--pruner`` choices: ``none`` (every candidate trains the full recipe: the default).
PRUNERS: tuple[str, ...] = ("none", "halving", "hyperband")
#: The first rung, in epochs.
MIN_RESOURCE_EPOCHS = 1
#: A third of the candidates at a rung go on to the next.
REDUCTION_FACTOR = 3


def check_pruner(name: str, epochs: int, multi_objective: bool) -> None:
    """Refuse a pruner that cannot work with these settings (InputError, one line)."""
    if name not in PRUNERS:
        raise InputError(f"--pruner must be one of {', '.join(PRUNERS)}, got {name!r}")
    if name == "none":
        return
    if epochs < 2:
        raise InputError(
            f"--pruner {name} needs --epochs >= 2 (it stops candidates between epochs), got {epochs}"
        )
    if multi_objective:
        raise InputError(
            f"--pruner {name} needs a single-objective controller (rl, tpe or random): "
            "Optuna's pruners do not support nsga2's two objectives"
        )


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    """The Optuna pruner of ``--pruner name`` for candidates of ``epochs`` epochs."""
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=MIN_RESOURCE_EPOCHS, reduction_factor=REDUCTION_FACTOR, bootstrap_count=0
        )
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=MIN_RESOURCE_EPOCHS, max_resource=epochs, reduction_factor=REDUCTION_FACTOR
        )
    return optuna.pruners.NopPruner()


@dataclass
class EpochJudge:
    """Reports a running candidate's validation accuracy to its trial and says when to stop.

    Attributes:
        trial: the candidate's Optuna trial (its study holds the pruner).
        epochs: the recipe's epochs (nothing is judged after the last).
        cap: the epochs the phase's sample-epoch budget has left for it (``epochs`` when it has them all).
        halted_by: ``pruner`` or ``budget`` once it said stop, else None.
    """

    trial: optuna.trial.Trial
    epochs: int
    cap: int
    halted_by: str | None = None

    def __call__(self, epoch: int, accuracy: float) -> bool:
        """After ``epoch`` (1-based) with validation ``accuracy``: True to stop training now."""
        self.trial.report(accuracy, epoch)
        if epoch >= self.cap:
            self.halted_by = "budget"
        elif epoch < self.epochs and self.trial.should_prune():
            self.halted_by = "pruner"
        if self.halted_by is not None:
            _log.info(
                "trial %d halted after epoch %d of %d by the %s (validation %.4f)",
                self.trial.number, epoch, self.epochs, self.halted_by, accuracy,
            )  # fmt: skip
        return self.halted_by is not None
