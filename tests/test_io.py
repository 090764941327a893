"""Atomic output: the final file appears whole, with the mode a plain open() would give,
and a failed write leaves the previous file and no temporary behind."""

import os

import pytest

from converters.files import atomic_write_bytes, atomic_write_text


def test_written_file_has_the_usual_mode(tmp_path):
    path = tmp_path / "model.tflite"
    atomic_write_bytes(path, b"TFL3")
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    assert path.read_bytes() == b"TFL3"
    assert oct(path.stat().st_mode & 0o777) == oct(plain.stat().st_mode & 0o777)


def test_failed_write_keeps_the_previous_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "report.json"
    atomic_write_text(path, "old")
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
