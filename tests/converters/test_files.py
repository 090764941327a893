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


def test_temporaries_of_killed_writers_are_removed_on_the_next_write(tmp_path):
    import signal
    import subprocess
    import sys

    path = tmp_path / "model.tflite"
    # a writer killed while its temporary exists (SIGKILL: no cleanup runs)
    code = ("import os, sys, time\nfrom converters.files import atomic_path\n"
            "with atomic_path(sys.argv[1]) as tmp:\n    tmp.write_bytes(b'x' * 1000)\n"
            "    print('ready', flush=True)\n    time.sleep(60)\n")
    writer = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "ready"
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    stale = [p.name for p in tmp_path.iterdir()]
    assert len(stale) == 1 and stale[0].startswith(f".model.tflite.{writer.pid}.")
    # a live writer's temporary and another file's temporary are left alone
    live = tmp_path / f".model.tflite.{os.getpid()}.abcd.tmp"
    other = tmp_path / f".other.tflite.{writer.pid}.abcd.tmp"
    live.write_bytes(b""), other.write_bytes(b"")
    atomic_write_bytes(path, b"TFL3")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name, "model.tflite"])
