"""`python -m bench`: run a profile, summarise result files, or profile devtone with py-spy.

python -m bench                       # the quick profile (what `make bench` runs)
BENCH=full python -m bench            # the full one; or --profile full
python -m bench --n 500 --no-reference --only sse_pairs
python -m bench --profile full --n 1000 --stacks cluster --no-reference   # one stack, one N
python -m bench report bench/results/*.jsonl   # medians over several runs
python -m bench report FILES --charts DIR      # and PNG charts of them (matplotlib)
python -m bench profile --shape pairs --rate 500 --seconds 20
python -m bench profile --shape broadcast --rate 20 --seconds 20 [--idle]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench import report, storm
from bench.procs import Process, raise_fd_limit
from bench.run import PACED_PHASES, PHASES, PROFILES, RESULTS, Profile, Runner, log
from bench.servers import STACKS, Source


def _install_loop(choice: str) -> str:
    """Use uvloop when asked (or on `auto` when installed); return the loop's name."""
    if choice in ("auto", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise SystemExit("uvloop is not installed: pip install -e '.[bench]'") from None
            return "asyncio"
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        return "uvloop"
    return "asyncio"


async def _cancel_on_sigterm(main: asyncio.Task) -> None:
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):
        loop.add_signal_handler(signal.SIGTERM, main.cancel)


def _profile(args: argparse.Namespace) -> Profile:
    """The profile asked for, with the command line's overrides."""
    profile = PROFILES[args.profile]
    if args.n:
        profile = replace(profile, sizes=tuple(args.n))
    if args.stacks:
        stacks = tuple(s.strip() for s in args.stacks.split(",") if s.strip())
        if unknown := [s for s in stacks if s not in STACKS]:
            raise SystemExit(f"unknown stack {', '.join(unknown)}: choose from {','.join(STACKS)}")
        profile = replace(profile, stacks=stacks)
    if args.no_reference:
        profile = replace(profile, reference=False)
    if args.no_longpoll:
        profile = replace(profile, longpoll=False)
    if args.only:
        profile = replace(profile, only=tuple(args.only))
    if args.pairs_seconds:
        profile = replace(profile, plan=replace(profile.plan, pairs_seconds=args.pairs_seconds))
    if args.paced_seconds:
        profile = replace(profile, plan=replace(profile.plan, paced_seconds=args.paced_seconds))
    if args.idle_seconds is not None:
        profile = replace(profile, plan=replace(profile.plan, idle_seconds=args.idle_seconds))
    return profile


def cmd_run(args: argparse.Namespace) -> int:
    """Run a profile; print the tables; the JSON lines stay under bench/results/."""
    profile = _profile(args)
    run_id = time.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(exist_ok=True)
    output = Path(args.output) if args.output else RESULTS / f"{run_id}-{profile.name}.jsonl"
    loop_name = _install_loop(args.loop)
    runner = Runner(profile, output, run_id, args.devtone_ref, args.devtone_root)
    started = time.monotonic()
    log(
        f"devtone benchmark, {profile.name} profile: N = {', '.join(map(str, profile.sizes))};"
        f" stacks {', '.join(profile.stacks)}; client on {loop_name};"
        f" devtone from {runner.source.commit or 'the work tree'}"
    )

    async def main() -> None:
        await _cancel_on_sigterm(asyncio.current_task())  # type: ignore[arg-type]
        await runner.run()

    try:
        asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        log("interrupted: stopping the servers")
        return 130
    finally:
        runner.close()
    log(f"done in {time.monotonic() - started:.0f} s; results in {output}")
    records = report.read_records([output])
    print()
    if len(report.Results(records).labels("devtone")) > 1:
        print(report.overview(records))  # the stacks side by side, one row per N
    print(report.markdown(records))
    print(report.broadcast_steps(records))
    _charts(records, output.parent / f"{output.stem}-charts")
    print(storm.table(records))
    return 0


def _charts(records: list[report.Record], folder: Path) -> None:
    """Draw the charts into `folder`, or say why not (matplotlib comes with the bench extra)."""
    try:
        from bench.charts import draw

        written = draw(records, folder)
    except ImportError as error:
        log(f"charts skipped: {error} (pip install -e '.[bench]')")
        return
    log(f"{len(written)} charts in {folder}")


def cmd_report(args: argparse.Namespace) -> int:
    """Tables of one or more result files (medians over runs)."""
    records = report.read_records(Path(p) for p in args.files)
    if args.overview:
        print(report.overview(records))
    print(report.markdown(records))
    if args.steps:
        print(report.broadcast_steps(records))
    if args.charts:
        _charts(records, Path(args.charts))
    print(storm.table(records))
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    """py-spy on devtone's worker under a steady pairs or broadcast load."""
    from bench.profile import main_summary, profile

    raise_fd_limit()
    _install_loop(args.loop)
    run_id = time.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(exist_ok=True)
    output = RESULTS / f"profile-{args.shape}-{run_id}"
    rate = args.rate or {"pairs": 500.0, "broadcast": 20.0, "longpoll": 150.0}[args.shape]
    work = Path(tempfile.mkdtemp(prefix="devtone-profile-"))
    if args.devtone_ref:
        source = Source.at(args.devtone_ref, work)
    elif args.devtone_root:
        source = Source.directory(args.devtone_root)
    else:
        source = Source()
    try:
        result = asyncio.run(
            profile(
                args.shape,
                args.n,
                rate,
                args.seconds,
                args.stack,
                output,
                run_id,
                log,
                idle=args.idle,
                source=source,
                gc_log=args.gc_log,
            )
        )
    except KeyboardInterrupt:
        log("interrupted: stopping the server")
        return 130
    finally:
        Process.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    text = main_summary(result)
    output.with_suffix(".md").write_text(text)
    print(text)
    return 0


def parser() -> argparse.ArgumentParser:
    """The command line."""
    top = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    sub = top.add_subparsers(dest="command")

    def run_options(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--profile",
            choices=sorted(PROFILES),
            default=os.environ.get("BENCH", "quick") or "quick",
            help="quick (default; BENCH=full in the environment picks full)",
        )
        p.add_argument("--n", type=int, action="append", help="stream count (repeatable)")
        p.add_argument(
            "--stacks",
            help=f"devtone's stacks, comma-separated, of {','.join(STACKS)} (default: the"
            " profile's; quick: embedded, full: all three); e.g. --profile full --n 1000"
            " --stacks cluster --no-reference runs the cluster stack alone at one N",
        )
        p.add_argument(
            "--no-reference", action="store_true", help="skip the references (flask-sse, nchan)"
        )
        p.add_argument("--no-longpoll", action="store_true", help="skip long-poll pairs")
        p.add_argument(
            "--only", action="append", choices=PHASES + PACED_PHASES, help="run only this phase"
        )
        p.add_argument("--pairs-seconds", type=float, help="length of the pairs load")
        p.add_argument("--paced-seconds", type=float, help="length of the few-publishers load")
        p.add_argument("--idle-seconds", type=float, help="idle CPU window (0 skips it)")
        p.add_argument("--output", help="JSON-lines file (default bench/results/<run>.jsonl)")
        p.add_argument("--loop", choices=("auto", "uvloop", "asyncio"), default="auto")
        source_options(p)

    def source_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--devtone-ref", help="measure this commit (git archive), not the tree")
        p.add_argument("--devtone-root", type=Path, help="measure the devtone checkout here")

    run_options(top)
    run_options(sub.add_parser("run", help="run a profile (the default command)"))
    rep = sub.add_parser("report", help="tables from result files, medians over runs")
    rep.add_argument("files", nargs="+")
    rep.add_argument("--steps", action="store_true", help="also the broadcast ramps")
    rep.add_argument("--overview", action="store_true", help="first, one row per server and N")
    rep.add_argument("--charts", metavar="DIR", help="also draw PNG charts into DIR")
    prof = sub.add_parser("profile", help="py-spy on devtone's worker under load")
    prof.add_argument("--shape", choices=("pairs", "broadcast", "longpoll"), default="pairs")
    prof.add_argument("--n", type=int, default=1000)
    prof.add_argument("--rate", type=float, help="msg/s (default 500 pairs, 20 broadcast)")
    prof.add_argument("--seconds", type=float, default=20.0)
    prof.add_argument("--stack", choices=("embedded", "postgres"), default="embedded")
    prof.add_argument(
        "--idle", action="store_true", help="keep samples of a worker off the CPU (I/O waits)"
    )
    prof.add_argument(
        "--gc-log", action="store_true", help="log the worker's garbage-collector pauses"
    )
    source_options(prof)
    prof.add_argument("--loop", choices=("auto", "uvloop", "asyncio"), default="auto")
    return top


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parser().parse_args(argv)
    if getattr(args, "profile", "quick") not in PROFILES:
        raise SystemExit(f"unknown profile {args.profile!r}: choose quick or full")
    if args.command == "report":
        return cmd_report(args)
    if args.command == "profile":
        return cmd_profile(args)
    return cmd_run(args)


if __name__ == "__main__":
    sys.exit(main())
