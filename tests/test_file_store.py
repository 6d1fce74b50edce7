"""The file store behind attachments (a folder), and the settings that place and size it."""

from __future__ import annotations

import os
import tempfile

import pytest

from devtone import create_app
from devtone.config import ConfigError, load
from devtone.file_store import FolderStore, files_of


def test_a_file_put_is_opened_whole_and_deleted_with_its_empty_folder(tmp_path):
    store = FolderStore(tmp_path / "files")
    store.put("7/abc_DEF-1", b"bytes")
    with store.open("7/abc_DEF-1") as file:
        assert file.read() == b"bytes"
    assert [p.name for p in (tmp_path / "files" / "7").iterdir()] == ["abc_DEF-1"]  # no temp left
    store.delete("7/abc_DEF-1")
    assert not (tmp_path / "files" / "7").exists()
    store.delete("7/abc_DEF-1")  # twice is nothing


def test_deleting_one_file_keeps_the_others_of_its_conversation(tmp_path):
    store = FolderStore(tmp_path)
    store.put("7/a", b"1")
    store.put("7/b", b"2")
    store.delete("7/a")
    with store.open("7/b") as file:
        assert file.read() == b"2"


def test_opening_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        FolderStore(tmp_path).open("1/missing")


def test_a_put_survives_a_delete_removing_its_folder_between_mkdir_and_write(tmp_path, monkeypatch):
    # Review: a refused upload's delete emptied and removed the conversation's folder
    # between another upload's mkdir and mkstemp, which then failed (a 500).
    store = FolderStore(tmp_path / "files")
    real_mkstemp = tempfile.mkstemp
    raced = []

    def mkstemp_after_a_delete(**kwargs):
        if not raced:
            raced.append(True)
            os.rmdir(kwargs["dir"])  # what delete() does to an empty folder
        return real_mkstemp(**kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp_after_a_delete)
    store.put("7/abc", b"bytes")
    assert raced and (tmp_path / "files" / "7" / "abc").read_bytes() == b"bytes"


@pytest.mark.parametrize("key", ["../x", "1/../../etc/passwd", "/etc/passwd", "1/a/b", "a/b", "1/"])
def test_no_key_names_a_path_outside_the_folder(tmp_path, key):
    store = FolderStore(tmp_path)
    for action in (
        lambda: store.put(key, b"x"),
        lambda: store.open(key),
        lambda: store.delete(key),
    ):
        with pytest.raises(ValueError):
            action()


def test_the_store_is_in_the_instance_folder_unless_a_folder_is_set(tmp_path, monkeypatch):
    monkeypatch.setenv("DEVTONE_INSTANCE_PATH", str(tmp_path / "instance"))
    assert files_of(create_app()).folder == tmp_path / "instance" / "attachments"
    monkeypatch.setenv("DEVTONE_UPLOAD_FOLDER", str(tmp_path / "shared"))
    assert files_of(create_app()).folder == tmp_path / "shared"


def test_the_upload_limit_is_10_mb_by_default_and_a_bad_one_names_its_key(tmp_path):
    assert load({}, str(tmp_path))["UPLOAD_MAX_MB"] == 10
    assert load({"DEVTONE_UPLOAD_MAX_MB": "25"}, str(tmp_path))["UPLOAD_MAX_MB"] == 25
    for bad in ("abc", "0", "-1"):
        with pytest.raises(ConfigError, match="DEVTONE_UPLOAD_MAX_MB"):
            load({"DEVTONE_UPLOAD_MAX_MB": bad}, str(tmp_path))
