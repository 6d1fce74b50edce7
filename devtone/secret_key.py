"""The key that signs cookies: kept in the instance folder for `make run`, chosen by the
operator (and checked for strength) in production."""

from __future__ import annotations

import math
import os
import secrets
from collections import Counter
from pathlib import Path

FILE_NAME = "secret_key"

#: The shortest SECRET_KEY production accepts: 32 characters ("dev", "change-me" and the
#: like are far shorter; `secrets.token_hex(32)` makes 64).
MIN_LENGTH = 32
#: The least entropy production accepts in SECRET_KEY, as `estimated_bits` estimates it. The
#: estimate runs low on random keys, so 32 random hex characters (128 bits) may fall short:
#: 64 do not (token_hex(32), what the error message suggests).
MIN_BITS = 128

_HINT = (
    "set SECRET_KEY to a random key, the same on every host, such as the 64 hex "
    "characters of python3 -c 'import secrets; print(secrets.token_hex(32))'"
)


def production_problem(secret: str | None) -> str | None:
    """Why production must not run on `secret` (None when it may).

    The instance folder's secret (or a random one per process) would differ between hosts
    and workers, signing every agent out whenever a request lands elsewhere: production
    needs a key the operator chose, long and unpredictable.
    """
    if not secret:
        return f"SECRET_KEY is not set and DEVTONE_ENV=production: {_HINT}."
    if len(secret) < MIN_LENGTH:
        return f"SECRET_KEY is too short for DEVTONE_ENV=production: {_HINT}."
    bits = estimated_bits(secret)
    if bits < MIN_BITS:
        return (
            f"SECRET_KEY is too predictable for DEVTONE_ENV=production (about {bits:.0f} "
            f"bits of entropy; {MIN_BITS} needed): {_HINT}."
        )
    return None


def estimated_bits(secret: str) -> float:
    """A cautious estimate of the entropy in `secret`, in bits.

    The Shannon entropy of its characters (bits per character, from how often each one
    occurs) times the number of distinct runs of four characters in it, so a repeated
    pattern counts once: 32 spaces score 0, "abcd" * 8 scores 8, "0123456789abcdef" * 4
    scores 64. A random key scores less than it holds (a sample never shows its whole
    alphabet), but `secrets.token_hex(32)` still scores 200+, `token_urlsafe(32)` 170+.
    It cannot recognise a phrase or a keyboard row: those the hint's advice covers.
    """
    counts = Counter(secret).values()
    per_character = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts)
    runs = {secret[i : i + 4] for i in range(len(secret) - 3)}
    return per_character * len(runs)


def instance_or_random(instance_path: str) -> str:
    """The secret kept in the instance folder by `init-db`, or a random one for this run.

    Never a guessable default; the factory only reads, the `init-db` command writes.
    """
    try:
        return read(instance_path)
    except FileNotFoundError:
        return secrets.token_hex(32)


def read(instance_path: str) -> str:
    """The secret kept in the instance folder (FileNotFoundError before `init-db`)."""
    return (Path(instance_path) / FILE_NAME).read_text().strip()


def write(instance_path: str) -> bool:
    """Create the instance folder's secret once; return whether one was written."""
    instance = Path(instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(instance / FILE_NAME, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    return True
