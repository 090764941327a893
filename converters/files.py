"""Atomic file output: a reader never sees a half-written file, and an interrupted or
failed write leaves the previous file (or nothing) in place."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pathlib
import stat
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


class PathError(ValueError):
    """A path given on the command line (or in a config) cannot be used as asked; the
    message names the path and what is wrong with it."""


def check_path_text(path, what: str = "path") -> pathlib.Path:
    """Refuse a path that no file system can hold: empty, or with a NUL character (which
    os functions refuse only when first used, possibly after long work)."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not text:
        raise PathError(f"empty {what}")
    if "\0" in text:
        raise PathError(f"{what} {text!r} contains a NUL character")
    return pathlib.Path(text)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def check_input_file(path, what: str = "input") -> pathlib.Path:
    """Refuse, before anything is read, an input that is missing, unreadable, or not a
    regular file (a directory; a FIFO or device, whose read blocks or never ends).
    Symbolic links are followed."""
    path = check_path_text(path, what)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise PathError(f"{what} {path} does not exist") from None
    except OSError as error:
        raise PathError(f"cannot read {what} {path}: {error.strerror}") from None
    if not stat.S_ISREG(mode):
        raise PathError(f"{what} {path} is {_kind(mode)}; give a regular file")
    if not os.access(path, os.R_OK):
        raise PathError(f"cannot read {what} {path}: permission denied")
    return path


def _existing_ancestor(path: pathlib.Path) -> pathlib.Path:
    ancestor = path.parent if str(path.parent) else pathlib.Path(".")
    while not os.path.lexists(ancestor) and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    return ancestor


def _check_writable_directory(directory: pathlib.Path, path: pathlib.Path) -> None:
    """``directory`` (existing) is a directory in which a file can be created: tried for
    real, since permission bits do not tell a read-only mount, /proc or a full quota apart
    (and root passes every permission test)."""
    if not directory.is_dir():
        raise PathError(f"cannot write {path}: {directory} is not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".rt-keras-write-check-", dir=directory)
    except OSError as error:
        raise PathError(f"cannot write {path}: cannot create files in {directory} ({error.strerror})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)


def check_output_file(path, what: str = "output") -> pathlib.Path:
    """Refuse, before any long work, an output path that cannot become a file: a NUL in
    it, an existing directory or special file (FIFO, device, socket), a parent that is a
    file, or a directory where no file can be created (read-only, /proc, no permission).
    Missing parent directories are fine (``atomic_path`` creates them)."""
    path = check_path_text(path, what)
    if os.path.exists(path):
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise PathError(f"{what} {path} is a directory; give a file name, e.g. {path / 'model.tflite'}")
        if not stat.S_ISREG(mode):
            raise PathError(f"{what} {path} is {_kind(mode)}; give a regular file name")
    _check_writable_directory(_existing_ancestor(path), path)
    return path


def check_output_dir(path, what: str = "output directory") -> pathlib.Path:
    """Refuse, before any long work, a directory that cannot hold new files: a NUL in
    it, an existing file or special file, a parent that is a file, or a directory where
    no file can be created. A missing directory is fine if it can be created."""
    path = check_path_text(path, what)
    if os.path.exists(path):
        mode = os.stat(path).st_mode
        if not stat.S_ISDIR(mode):
            raise PathError(f"{what} {path} is {'a file' if stat.S_ISREG(mode) else _kind(mode)}; "
                            "give a directory")
        _check_writable_directory(path, path)
    else:
        _check_writable_directory(_existing_ancestor(path), path)
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
