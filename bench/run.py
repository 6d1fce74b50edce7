"""Profiles: which servers, stacks, sizes and phases; each phase on a fresh server.

`quick` (make bench): N = 1,000; devtone on the embedded stack beside the flask-sse
reference and nchan (bench/nchan.py, when nginx and its module are installed); SSE pairs,
SSE broadcast, long-poll pairs (devtone and nchan), and the few-publishers shape of
bench/paced.py. Under 6 minutes.
`full` (BENCH=full make bench): N = 100, 1,000, 5,000, 10,000; devtone on every stack:
embedded, postgres (PostgreSQL + one Redis) and cluster (PostgreSQL + a Redis Cluster of
3 masters and 3 replicas on loopback, started for each N's cluster phases and stopped
after them, by PID; skipped, saying why, without redis-server or redis-cli).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import paced, phases, storm
from bench.adapters import adapter_for
from bench.load import Plan
from bench.nchan import NchanServer, nchan_missing
from bench.procs import Process, raise_fd_limit
from bench.redis_cluster import LoopbackCluster, cluster_missing
from bench.servers import (
    HOST,
    STACKS,
    DevtoneServer,
    FlaskSseServer,
    Server,
    Source,
    pg_available,
    redis_available,
    redis_url,
)

RESULTS = Path(__file__).resolve().parent / "results"
Phase = Callable[
    [Server, Any, Plan, Callable[[str], None], dict[str, Any]], Awaitable[dict[str, Any]]
]
PHASES = ("sse_pairs", "sse_broadcast", "longpoll_pairs")
# The few-publishers shape (issue 20), on lines of their own.
PACED_PHASES = ("paced_pairs", "paced_broadcast", "paced_longpoll")
#: The reconnect storm (bench/storm.py), devtone only; in `full` at one size, not at each.
PHASES += ("reconnect_storm",)
STORM_SIZES = {"full": (5_000,)}


@dataclass(frozen=True)
class Profile:
    """What one invocation measures."""

    name: str
    sizes: tuple[int, ...]
    stacks: tuple[str, ...]
    plan: Plan
    reference: bool = True
    longpoll: bool = True
    only: tuple[str, ...] = PHASES + PACED_PHASES


PROFILES = {
    # The storm restarts the worker under 1,000 streams: 1 ½ minutes more, past the quick
    # run's six; `--only reconnect_storm` runs it at the quick size, `full` at 5,000.
    "quick": Profile(
        "quick",
        (1_000,),
        ("embedded",),
        Plan(n=1_000),
        only=tuple(p for p in PHASES + PACED_PHASES if p != "reconnect_storm"),
    ),
    "full": Profile(
        "full",
        (100, 1_000, 5_000, 10_000),
        STACKS,
        Plan(n=0, pairs_seconds=15.0, ramp_step_seconds=4.0, drain_seconds=15.0),
    ),
}


def _git_state() -> dict[str, Any]:
    """The commit measured, and whether devtone/ had uncommitted changes (read-only git)."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        try:
            done = subprocess.run(  # noqa: S603 - a fixed argv
                ["git", *args],  # noqa: S607 - git as found on the PATH
                cwd=root,
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "devtone_dirty": bool(git("status", "--porcelain", "--", "devtone", "wsgi.py")),
    }


def log(message: str) -> None:
    """Progress on stderr-like stdout, flushed, with the time."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Runner:
    """Runs a profile, writing one JSON line per phase."""

    def __init__(
        self,
        profile: Profile,
        output: Path,
        run_id: str,
        ref: str | None = None,
        root: Path | None = None,
    ):
        self.profile = profile
        self.output = output
        self.run_id = run_id
        self.workdir = Path(tempfile.mkdtemp(prefix="devtone-bench-"))
        self.nchan = False  # whether nchan runs (beside flask-sse, at the first stack)
        self.first_stack = ""
        self.cluster: LoopbackCluster | None = None  # while the cluster stack runs
        if ref:
            self.source = Source.at(ref, self.workdir)
        elif root:
            self.source = Source.directory(root)
        else:
            self.source = Source()

    def write(self, record: dict[str, Any]) -> None:
        """Append one record to the results file."""
        with open(self.output, "a") as out:
            out.write(json.dumps(record, default=str) + "\n")

    def header(self) -> dict[str, Any]:
        """The run's context: machine, limits, what was skipped and why."""
        soft, hard = raise_fd_limit()
        load = os.getloadavg()
        return {
            "kind": "run",
            "git": _git_state(),
            "devtone_source": {
                "path": str(self.source.path),
                "commit": self.source.commit or "work tree",
            },
            "run": self.run_id,
            "profile": self.profile.name,
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "host": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "loadavg_at_start": load,
                "nofile": [soft, hard],
            },
        }

    async def phase(self, server: Server, plan: Plan, run_phase: Phase) -> dict[str, Any]:
        """Start a fresh server, run one phase on it, stop it; the record."""
        name = run_phase.__name__
        log(f"{server.label}: {name}, N = {plan.n:,}")
        record: dict[str, Any] = {
            "kind": "phase",
            "run": self.run_id,
            "profile": self.profile.name,
            "server": server.kind,
            "stack": server.stack,
            "label": server.label,
            "phase": name,
            "n": plan.n,
            "loadavg_at_start": os.getloadavg(),
        }
        started = time.monotonic()
        try:
            await asyncio.to_thread(server.start)
            adapter = adapter_for(server.kind, HOST, server.port, self.run_id)
            async with asyncio.timeout(plan.phase_timeout):
                await run_phase(server, adapter, plan, lambda m: log(m), record)
            record["server_alive_at_end"] = server.alive()
            if not server.alive():
                record["error"] = f"the server died:\n{server.log_tail()}"
        except TimeoutError:
            record["error"] = f"the phase's time bound ({plan.phase_timeout:.0f} s) was reached"
            log(f"  FAILED: {record['error']}")
        except Exception as error:  # one failed phase must not end the run
            record["error"] = f"{type(error).__name__}: {error}"
            log(f"  FAILED: {record['error']}")
            tail = server.log_tail()
            if tail:
                log("  server log:\n" + tail)
        finally:
            await asyncio.to_thread(server.stop)
        record["seconds"] = time.monotonic() - started
        self.write(record)
        return record

    def available(self) -> tuple[bool, list[str], dict[str, str]]:
        """Whether the reference runs, which stacks run, and why anything is skipped."""
        skipped: dict[str, str] = {}
        reference = self.profile.reference
        if reference and (why := redis_available(redis_url())):
            skipped["flask-sse"] = f"Redis at {redis_url()} does not answer: {why}"
            reference = False
        stacks = list(self.profile.stacks)
        if "postgres" in stacks:
            why = pg_available() or redis_available(redis_url())
            if why:
                skipped["devtone (postgres)"] = why
                stacks.remove("postgres")
        if "cluster" in stacks:
            why = cluster_missing() or pg_available()
            if why:
                skipped["devtone (cluster)"] = why
                stacks.remove("cluster")
        return reference, stacks, skipped

    async def run(self) -> None:
        """Every size, stack and phase of the profile, servers alternating."""
        header = self.header()
        reference, stacks, skipped = self.available()
        if self.profile.reference and (why := nchan_missing()):
            skipped["nchan"] = why
        self.nchan = self.profile.reference and "nchan" not in skipped
        self.first_stack = stacks[0] if stacks else ""
        header["skipped"] = skipped
        header["stacks"] = stacks
        self.write(header)
        for label, why in skipped.items():
            log(f"skipping {label}: {why}")
        log(f"open files limit: {header['host']['nofile'][0]:,}; results: {self.output}")
        for n in self.profile.sizes:
            plan = replace(self.profile.plan, n=n)
            connections = n + 2 * plan.posters + 1_000
            for stack in stacks:
                with_reference = reference and stack == stacks[0]
                if stack == "cluster":
                    await self.on_cluster(plan, connections, with_reference)
                else:
                    await self.size(plan, connections, stack, with_reference)

    async def on_cluster(self, plan: Plan, connections: int, reference: bool) -> None:
        """The cluster stack's phases at one N, on a Redis Cluster started for them and
        stopped after them (every phase's devtone keeps channels and counts of its own)."""
        cluster = LoopbackCluster(self.workdir / f"redis-cluster-{plan.n}")
        log(f"devtone (cluster), N = {plan.n:,}: starting a Redis Cluster, 3 masters + 3 replicas")
        started = time.monotonic()
        self.cluster = cluster
        try:
            try:
                await asyncio.to_thread(cluster.start)
            except (RuntimeError, OSError, subprocess.SubprocessError) as error:
                log(f"  FAILED: the Redis Cluster did not start: {error}")
                self.write(
                    {
                        "kind": "error",
                        "run": self.run_id,
                        "stack": "cluster",
                        "n": plan.n,
                        "error": f"the Redis Cluster did not start: {error}",
                    }
                )
                return
            log(
                f"  cluster up in {time.monotonic() - started:.1f} s; node PIDs"
                f" {', '.join(map(str, cluster.pids()))}"
            )
            await self.size(plan, connections, "cluster", reference, cluster)
        finally:
            await asyncio.to_thread(cluster.stop)
            self.cluster = None

    async def size(
        self,
        plan: Plan,
        connections: int,
        stack: str,
        reference: bool,
        cluster: LoopbackCluster | None = None,
    ) -> None:
        """The phases at one N on one devtone stack (and the reference, once per N)."""

        def devtone() -> Server:
            return DevtoneServer(
                self.workdir, connections, stack, self.run_id, self.source, cluster
            )

        def flask_sse() -> Server:
            return FlaskSseServer(self.workdir, connections)

        def nchan() -> Server | None:
            with_nchan = self.nchan and stack == self.first_stack
            return NchanServer(self.workdir, connections) if with_nchan else None

        # nchan sends no heartbeat (none is configured): its idle window would be 15 s of
        # nothing, and the quick profile must stay under six minutes.
        nchan_plan = replace(plan, idle_seconds=0.0)

        only = self.profile.only
        for name in ("sse_pairs", "sse_broadcast"):
            if name in only:
                await self.phase(devtone(), plan, getattr(phases, name))
                if reference:
                    await self.phase(flask_sse(), plan, getattr(phases, name))
                if server := nchan():
                    await self.phase(server, nchan_plan, getattr(phases, name))
        if self.profile.longpoll and "longpoll_pairs" in only:
            await self.phase(devtone(), plan, phases.longpoll_pairs)
            if server := nchan():
                await self.phase(server, plan, phases.longpoll_pairs)
        await self.paced(plan, devtone, flask_sse if reference else None, nchan)
        await self.storm(plan, devtone)

    async def paced(
        self,
        plan: Plan,
        devtone: Callable[[], Server],
        flask_sse: Callable[[], Server] | None,
        nchan: Callable[[], Server | None],
    ) -> None:
        """The few-publishers phases: devtone, then each reference that has the transport."""
        for name in PACED_PHASES:
            if name not in self.profile.only:
                continue
            if name == "paced_longpoll" and not self.profile.longpoll:
                continue
            run_phase = getattr(paced, name)
            await self.phase(devtone(), plan, run_phase)
            if flask_sse is not None and name != "paced_longpoll":  # no long-poll tier
                await self.phase(flask_sse(), plan, run_phase)
            if server := nchan():
                await self.phase(server, plan, run_phase)

    async def storm(self, plan: Plan, devtone: Callable[[], Server]) -> None:
        """The reconnect storm, devtone only, at the sizes the profile runs it at."""
        sizes = STORM_SIZES.get(self.profile.name, (plan.n,))
        if "reconnect_storm" in self.profile.only and plan.n in sizes:
            await self.phase(devtone(), plan, storm.reconnect_storm)

    def close(self) -> None:
        """Stop anything still running (Ctrl-C) and remove the work folder."""
        Process.stop_all()
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None
        import shutil

        shutil.rmtree(self.workdir, ignore_errors=True)
