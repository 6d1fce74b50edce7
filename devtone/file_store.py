"""Where attachments' bytes live: one small interface (put, open, delete) and its one
backend, a folder (DEVTONE_UPLOAD_FOLDER, instance/attachments by default).

Several hosts share the folder by mounting the same network file system there (NFS, EFS,
a CIFS share; docs/deploy.md): every key is written once, under a new random name, and
never rewritten, so no host ever reads a half-written file of another's. Another backend
(an object store) would implement the same three methods.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import Flask

EXTENSION_KEY = "devtone.files"

# `<conversation id>/<attachment id>`: digits, then URL-safe base64. Nothing else can
# name a path, so no key climbs out of the folder.
_KEY = re.compile(r"[0-9]{1,12}/[A-Za-z0-9_-]{1,64}")


class FileStore(Protocol):
    """Bytes by key: what the domain's attachments need of a storage."""

    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key` (a new key: keys are never rewritten)."""

    def open(self, key: str) -> BinaryIO:
        """The stored bytes of `key`, as a file to read (FileNotFoundError if none)."""

    def delete(self, key: str) -> None:
        """Forget `key`; nothing happens if it is not there."""


class FolderStore:
    """Files in a folder, one sub-folder per conversation."""

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)

    def put(self, key: str, data: bytes) -> None:
        """Write to a temporary file, then rename: a reader sees the whole file or none."""
        path = self._path(key)
        for attempt in range(3):
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
                break
            except FileNotFoundError:
                # A delete in the same conversation removed the folder, empty a moment,
                # between our mkdir and mkstemp: make it again.
                if attempt == 2:
                    raise
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        """The file of `key`, opened for reading."""
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        """Remove the file of `key`, and its conversation's folder once empty."""
        path = self._path(key)
        path.unlink(missing_ok=True)
        try:
            path.parent.rmdir()
        except OSError:
            pass  # other files are still there (or it is gone already)

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a file store key: {key!r}")
        return self.folder / key


def init_app(app: Flask) -> None:
    """Give `app` its file store: DEVTONE_UPLOAD_FOLDER, else `attachments` in the instance
    folder (made on the first upload)."""
    folder = app.config["UPLOAD_FOLDER"] or Path(app.instance_path) / "attachments"
    app.extensions[EXTENSION_KEY] = FolderStore(folder)


def files_of(app: Flask) -> FileStore:
    """The app's file store."""
    return app.extensions[EXTENSION_KEY]
