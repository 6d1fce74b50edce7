"""The committed front-end build (devtone/static/build) is what `make assets` makes of the
sources today: a change under devtone/static/ without a rebuild fails here, in CI."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import brotli

from tests.conftest import require
from tests.servers import ROOT

COMMITTED = ROOT / "devtone" / "static" / "build"


#: Compressed copies are compared by what they decompress to: another zlib or brotli
#: build may pack the same bytes differently, and either is right.
_DECOMPRESS = {".gz": gzip.decompress, ".br": brotli.decompress}


def _differences(committed: Path, fresh: Path) -> list[str]:
    """The file names that are missing, extra or different in `committed`."""
    names = {path.name for path in committed.iterdir()}
    fresh_names = {path.name for path in fresh.iterdir()}
    stale = names ^ fresh_names
    for name in names & fresh_names:
        decompress = _DECOMPRESS.get(Path(name).suffix)
        if decompress is None:
            same = (committed / name).read_bytes() == (fresh / name).read_bytes()
        else:
            plain = (fresh / Path(name).stem).read_bytes()
            same = decompress((committed / name).read_bytes()) == plain
        if not same:
            stale.add(name)
    return sorted(stale)


def test_the_committed_build_is_what_make_assets_makes_of_the_sources(tmp_path):
    require(
        shutil.which("npm") is not None and shutil.which("node") is not None,
        "npm is not installed: the front-end build (esbuild) cannot run here",
    )
    fresh = tmp_path / "build"
    done = subprocess.run(
        ["make", "--no-print-directory", "assets", f"ASSETS_OUT={fresh}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    stale = _differences(COMMITTED, fresh)
    assert stale == [], (
        f"devtone/static/build does not match the sources ({', '.join(stale)}): "
        "run `make assets` and commit devtone/static/build"
    )
