"""Atomic file output: a reader never sees a half-written file, and an interrupted or
failed write leaves the previous file (or nothing) in place."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pathlib
import tempfile


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path`` (``.NAME.PID.XXXX.tmp``); on success it is
    renamed onto ``path``. Temporaries that killed processes left beside ``path`` are
    removed first (their PID no longer runs)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield pathlib.Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the mode open() would
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def check_output_file(path) -> pathlib.Path:
    """Refuse, before any long work, an output path that cannot become a file: an
    existing directory, or a parent that is a file or not writable (ValueError)."""
    path = pathlib.Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a directory; give a file name, e.g. {path / 'model.tflite'}")
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise ValueError(f"cannot write {path}: {ancestor} is not a directory")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write {path}: {ancestor} is not writable")
    return path


def remove_stale_temporaries(path) -> list[pathlib.Path]:
    """Delete ``.NAME.PID.*.tmp`` files beside ``path`` whose process is gone."""
    path = pathlib.Path(path)
    removed = []
    for candidate in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = candidate.name[len(path.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not process_running(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                candidate.unlink()
                removed.append(candidate)
    return removed


def process_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, value) -> None:
    atomic_write_text(path, json.dumps(value, indent=2, sort_keys=False) + "\n")


@contextlib.contextmanager
def private_tempdir(prefix: str):
    """Make ``tempfile`` (and libraries using it) write into a fresh directory
    ``PREFIX-PID-XXXX`` under the system temp directory, removed on exit; directories of
    earlier processes with the same prefix that were killed are removed first."""
    import shutil

    base = pathlib.Path(tempfile.gettempdir())
    for stale in base.glob(f"{glob.escape(prefix)}-*"):
        pid = stale.name[len(prefix) + 1:].split("-", 1)[0]
        if stale.is_dir() and pid.isdigit() and not process_running(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    own = tempfile.mkdtemp(prefix=f"{prefix}-{os.getpid()}-", dir=base)
    saved, tempfile.tempdir = tempfile.tempdir, own
    try:
        yield pathlib.Path(own)
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(own, ignore_errors=True)
