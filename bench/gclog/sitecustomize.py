"""Logs CPython's garbage-collector pauses of a server the benchmark profiles.

Put on a server's PYTHONPATH by `python -m bench profile --gc-log` (never otherwise):
when BENCH_GC_LOG names a folder, each process appends `<wall time> <generation>
<milliseconds>` lines to `<folder>/gc-<pid>.log`, one per collection of generation 1 or
2 or any taking over 5 ms. devtone's own code is not touched.
"""

import gc
import os
import time

_FOLDER = os.environ.get("BENCH_GC_LOG")
_state: dict = {"pid": None, "file": None, "start": 0.0}


def _log_pause(phase: str, info: dict) -> None:
    if phase == "start":
        _state["start"] = time.perf_counter()
        return
    pause = (time.perf_counter() - _state["start"]) * 1000
    if info["generation"] == 0 and pause <= 5:
        return
    if _state["pid"] != os.getpid():  # after a fork, the worker writes a file of its own
        _state["pid"] = os.getpid()
        _state["file"] = open(os.path.join(_FOLDER, f"gc-{os.getpid()}.log"), "a", buffering=1)
    _state["file"].write(f"{time.time():.3f} {info['generation']} {pause:.2f}\n")


if _FOLDER:
    gc.callbacks.append(_log_pause)
