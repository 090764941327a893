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


# --- validation before work starts (issue 32, findings 4, 6, 7) -------------------------------

def _refused(check, path, needle):
    from converters.files import PathError

    with pytest.raises(PathError) as error:
        check(path)
    message = str(error.value)
    assert needle in message and "\n" not in message, message
    return message


def test_output_file_checks_refuse_what_cannot_become_a_file(tmp_path):
    from converters.files import check_output_file

    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "a-file").write_text("x")
    assert _refused(check_output_file, tmp_path, "is a directory; give a file name") == \
        f"output {tmp_path} is a directory; give a file name, e.g. {tmp_path / 'model.tflite'}"
    _refused(check_output_file, tmp_path / "fifo", "is a named pipe (FIFO); give a regular file name")
    _refused(check_output_file, "/dev/null", "output /dev/null is a character device")
    _refused(check_output_file, tmp_path / "a-file" / "out.tflite", f"{tmp_path / 'a-file'} is not a directory")
    _refused(check_output_file, "/proc/x.tflite", "cannot write /proc/x.tflite: cannot create files in /proc")
    _refused(check_output_file, f"{tmp_path}/a\0b.tflite", "contains a NUL character")
    _refused(check_output_file, "", "empty output")
    assert check_output_file(tmp_path / "new" / "dir" / "model.tflite") == tmp_path / "new" / "dir" / "model.tflite"
    assert not (tmp_path / "new").exists()  # checking creates nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "fifo"]  # and leaves no probe file


def test_output_directory_checks(tmp_path):
    from converters.files import check_output_dir

    (tmp_path / "a-file").write_text("x")
    _refused(check_output_dir, tmp_path / "a-file", f"directory {tmp_path / 'a-file'} is a file; give a directory")
    _refused(check_output_dir, tmp_path / "a-file" / "run", "is not a directory")
    _refused(check_output_dir, "/proc/runs/rt", "cannot create files in /proc")
    _refused(check_output_dir, f"{tmp_path}/runs\0", "contains a NUL character")
    assert check_output_dir(tmp_path / "runs" / "rt") == tmp_path / "runs" / "rt" and not (tmp_path / "runs").exists()
    assert check_output_dir(tmp_path) == tmp_path


def test_input_file_checks_refuse_what_cannot_be_read_to_its_end(tmp_path):
    from converters.files import check_input_file

    os.mkfifo(tmp_path / "fifo")
    _refused(check_input_file, tmp_path / "fifo", "is a named pipe (FIFO); give a regular file")  # a read would block
    _refused(check_input_file, tmp_path, "is a directory; give a regular file")
    _refused(check_input_file, tmp_path / "missing.wav", "does not exist")
    _refused(check_input_file, "/dev/zero", "is a character device")  # a read would never end
    (tmp_path / "ok.wav").write_bytes(b"RIFF")
    assert check_input_file(tmp_path / "ok.wav") == tmp_path / "ok.wav"


def test_path_text_check_for_config_paths():
    from converters.files import PathError, check_path_text

    with pytest.raises(PathError, match=r"^data.cache_dir '/tmp/a\\x00b' contains a NUL character$"):
        check_path_text("/tmp/a\0b", "data.cache_dir")
