"""Processes the benchmark starts and what /proc says about them (CPU, PSS, descendants).

Every process started here is recorded, started in a session of its own (a Ctrl-C in the
terminal reaches the benchmark, which then stops its servers in order) and stopped by PID:
SIGTERM, a bounded wait, then SIGKILL for whatever of its process tree is left.
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def raise_fd_limit() -> tuple[int, int]:
    """Raise the soft open-files limit as far as the hard one allows; return (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name may contain spaces and parentheses: split after the last ")".
    return raw[raw.rindex(")") + 2 :].split()


def parent_of(pid: int) -> int | None:
    """The parent PID, or None if the process is gone."""
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, their children, …)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            parent = parent_of(int(entry))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of `pid` so far (all its threads), or None if it is gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return None
    # Fields 14 and 15 of /proc/<pid>/stat (utime, stime); index 11 and 12 after the name.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def pss_kib(pid: int) -> int | None:
    """Proportional set size of `pid` in KiB (/proc/<pid>/smaps_rollup), or None."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def fd_count(pid: int) -> int | None:
    """Open file descriptors of `pid`, or None."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, PermissionError):
        return None


@dataclass
class CpuSample:
    """CPU seconds per PID at one instant (monotonic clock)."""

    at: float
    seconds: dict[int, float]

    @classmethod
    def take(cls, pids: Iterable[int]) -> CpuSample:
        """Read every PID's CPU time now."""
        seconds = {}
        for pid in pids:
            value = cpu_seconds(pid)
            if value is not None:
                seconds[pid] = value
        return cls(time.monotonic(), seconds)

    def percent_since(self, earlier: CpuSample) -> dict[int, float]:
        """Per PID, % of one core used between `earlier` and this sample."""
        wall = self.at - earlier.at
        if wall <= 0:
            return {}
        return {
            pid: 100.0 * (value - earlier.seconds.get(pid, 0.0)) / wall
            for pid, value in self.seconds.items()
            if pid in earlier.seconds
        }


def client_cpu_seconds() -> float:
    """This process's own user + system CPU time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Process:
    """A process tree the benchmark started and will stop, by PID."""

    started: list[Process] = []  # every live one, so a Ctrl-C can stop them all

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str],
        cwd: Path,
        log: Path,
        pass_fds: Sequence[int] = (),
    ):
        self.name = name
        self.log = log
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - argv built by the bench
                list(argv),
                env=env,
                cwd=cwd,
                pass_fds=tuple(pass_fds),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = self.popen.pid
        self._known: set[int] = set()
        Process.started.append(self)

    def alive(self) -> bool:
        """Whether the top process is still running."""
        return self.popen.poll() is None

    def tree(self) -> list[int]:
        """The top PID and every descendant alive now (remembered for the final kill)."""
        pids = [self.pid, *descendants(self.pid)] if self.alive() else []
        self._known.update(pids)
        return pids

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the top process, wait, then SIGKILL every PID of the tree still there."""
        self.tree()
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.popen.kill()
                self.popen.wait(timeout=5)
        for pid in self._known - {self.pid}:
            if parent_of(pid) is not None and _same_session(pid, self.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if self in Process.started:
            Process.started.remove(self)

    def tail(self, lines: int = 20) -> str:
        """The end of the process's log."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    @classmethod
    def stop_all(cls) -> None:
        """Stop every process still running, newest first."""
        for process in reversed(list(cls.started)):
            with contextlib.suppress(Exception):
                process.stop(timeout=5)


def _same_session(pid: int, leader: int) -> bool:
    """Whether `pid` is still in the session `leader` started (not a recycled PID)."""
    fields = _stat_fields(pid)
    return fields is not None and int(fields[3]) == leader
