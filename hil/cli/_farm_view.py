"""What ``hil farm run`` and ``hil farm status`` show: progress, the end-of-run summary, the ledger.

Why two progress forms: an overnight run is watched on a terminal (a rich progress bar with
queued / running / done / failed and an ETA) and read back from a log file the next morning
(one plain, timestamped line per event, no control characters).
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Any

__all__ = ["RunDisplay", "summary_tables", "status_renderable", "format_eta"]


def format_eta(seconds: float | None) -> str:
    """``H:MM:SS``, or ``-`` when unknown."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def _counts_text(counts: Any) -> str:
    text = f"queued {counts.queued}, running {counts.running}, done {counts.done}, failed {counts.failed}"
    return text + (f", already done {counts.skipped}" if counts.skipped else "")


class RunDisplay:
    """Progress of one run: a rich bar on a terminal, plain lines otherwise, nothing with ``quiet``.

    Args:
        console: the rich console (stdout).
        total: the run's job count.
        live: draw a progress bar (the console is a terminal).
        quiet: print nothing (``--json``: stdout carries only the JSON document).
    """

    def __init__(self, console: Any, total: int, *, live: bool, quiet: bool = False) -> None:
        self.console = console
        self.total = total
        self.live = live and not quiet
        self.quiet = quiet
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> RunDisplay:
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("[bold]builds[/]"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.description}"), TimeElapsedColumn(), TextColumn("ETA {task.fields[eta]}"),
                console=self.console, transient=False,
            )  # fmt: skip
            self._progress.start()
            self._task = self._progress.add_task(f"{self.total} to check", total=self.total, eta="-")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def on_event(self, event: Any) -> None:
        """A runner ``ProgressEvent``."""
        if self.quiet:
            return
        counts = event.counts
        label = f"{event.kind:9} {event.job.describe()}" + (f"  {event.detail}" if event.detail else "")
        if self._progress is not None:
            from rich.markup import escape

            if counts is not None:
                self._progress.update(self._task, completed=counts.finished, description=_counts_text(counts),
                                      eta=format_eta(counts.eta_s))  # fmt: skip
            if event.kind in ("done", "failed", "refused", "waiting", "elsewhere", "requeued", "lost"):
                colour = {"failed": "red", "refused": "yellow", "requeued": "yellow", "lost": "yellow",
                          "done": "green"}.get(event.kind, "cyan")  # fmt: skip
                stamp = time.strftime("%H:%M:%S")
                self._progress.console.print(f"[dim]{stamp}[/] [{colour}]{escape(label)}[/]")
            return
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        tail = ""
        if counts is not None:
            eta = format_eta(counts.eta_s)
            tail = f" | {counts.finished}/{counts.total}: {_counts_text(counts)} | ETA {eta}"
        self.console.print(f"{stamp} {label}{tail}", markup=False, highlight=False, soft_wrap=True)


def summary_tables(rows: list[dict[str, Any]], payload: dict[str, Any]) -> list[Any]:
    """The end of a run: a headline (built, cache hits, failed), outcomes by state and error code
    (build hours, hours per build), then the jobs (only those not done when there are many)."""
    from rich.table import Table

    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for r in rows:
        groups[(r["state"], r["error_code"] or "")].append(float(r["seconds"] or 0.0))
    headline = (
        f"farm run: {payload['built']} built, {payload['skipped']} cache hits (already done), "
        f"{payload['waited']} built by other processes while this run waited, {payload['failed']} failed; "
        f"{payload['seconds'] / 3600:.3f} h wall clock"
    )
    outcome = Table(title="outcomes by state and error code")
    for column in ("state", "error code", "builds", "build hours", "hours per build", "longest (h)"):
        outcome.add_column(column, justify="left" if column in ("state", "error code") else "right")
    for (state, code), seconds in sorted(groups.items()):
        outcome.add_row(
            state, code, str(len(seconds)), f"{sum(seconds) / 3600:.3f}",
            f"{sum(seconds) / len(seconds) / 3600:.4f}", f"{max(seconds) / 3600:.4f}",
        )  # fmt: skip
    shown = rows if len(rows) <= 40 else [r for r in rows if r["state"] != "done"]
    jobs = Table(title="jobs" if shown is rows else f"jobs not done ({len(shown)} of {len(rows)})")
    for column in (
        "key",
        "model",
        "board",
        "builder",
        "state",
        "tries",
        "worker",
        "s",
        "code",
        "LUT",
        "message",
    ):
        jobs.add_column(column)
    for r in shown:
        jobs.add_row(
            r["key"][:12], r["model"], r["board"], r["builder"], r["state"], str(r["attempts"]),
            str(r["worker"] or ""), "" if r["seconds"] is None else f"{r['seconds']:.1f}",
            r["error_code"] or "",
            "" if r["lut"] is None else f"{r['lut']:g} ({r['provenance']})", r["message"][:60],
        )  # fmt: skip
    return [headline, outcome, jobs] if shown else [headline, outcome]


def _ago(seconds: float) -> str:
    return f"{seconds:.1f} s ago" if seconds < 120 else f"{seconds / 60:.1f} min ago"


def status_renderable(snapshot: dict[str, Any], *, watch: bool = False) -> Any:
    """``hil farm status`` as rich tables: counts and owner, processes, jobs, recent events."""
    from rich.console import Group
    from rich.table import Table

    counts = snapshot["counts"]
    owner = snapshot["owner"]
    if owner is None:
        owner_text = "owner: none (the next process that opens the ledger takes it)"
    elif owner.get("process") is None:
        owner_text = f"owner: {owner['token']} (no heartbeat row: presumed dead)"
    else:
        proc = owner["process"]
        alive = "alive" if proc["alive"] else "[red]STALE[/]: the next process takes over"
        owner_text = (f"owner: {proc['label']}, heartbeat {_ago(proc['heartbeat_age_s'])} "
                      f"(limit {proc['limit_s']:g} s), {alive}")  # fmt: skip
    head = Table.grid()
    head.add_row(f"[bold]{snapshot['artifacts']}[/]: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    head.add_row(owner_text)
    parts: list[Any] = [head]
    if snapshot["processes"]:
        procs = Table(title="processes on this ledger")
        for column in ("process", "token", "heartbeat", "limit s", "alive"):
            procs.add_column(column)
        for p in snapshot["processes"]:
            procs.add_row(p["label"], p["token"], _ago(p["heartbeat_age_s"]), f"{p['limit_s']:g}",
                          "yes" if p["alive"] else "[red]no[/]")  # fmt: skip
        parts.append(procs)
    labels = {p["token"]: p["label"] for p in snapshot["processes"]}
    jobs = snapshot["jobs"]
    if watch:
        jobs = [j for j in jobs if j["state"] != "done"][:30]
    if jobs:
        table = Table(title="jobs" if not watch else "jobs not done (first 30)")
        for column in ("key", "model", "board", "builder", "state", "tries", "worker", "held by", "s", "code",
                       "message"):  # fmt: skip
            table.add_column(column)
        for e in jobs:
            holder = e.get("holder")
            table.add_row(
                e["key"][:12], Path(e["job"].get("model", "")).name, e["job"].get("board", ""),
                e["job"].get("builder", ""), e["state"], str(e["attempts"]), e["worker"] or "",
                labels.get(holder, holder or ""), "" if e["seconds"] is None else f"{e['seconds']:.1f}",
                e["error_code"] or "", (e["message"] or "").splitlines()[0][:60] if e["message"] else "",
            )  # fmt: skip
        parts.append(table)
    if snapshot["events"]:
        events = Table(title=f"last {len(snapshot['events'])} ledger events")
        for column in ("time", "key", "event", "by", "detail"):
            events.add_column(column)
        for ev in snapshot["events"]:
            detail = ", ".join(f"{k}={v}" for k, v in sorted(ev["detail"].items()) if v not in (None, ""))
            events.add_row(
                time.strftime("%H:%M:%S", time.localtime(ev["t"])), (ev["key"] or "")[:12], ev["event"],
                ev["actor"] or "", detail[:90],
            )  # fmt: skip
        parts.append(events)
    return Group(*parts)
