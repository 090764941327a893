"""The Free Spoken Digit Dataset (FSDD, CC BY-SA 4.0) in its own layout:
``recordings/{digit}_{speaker}_{take}.wav`` at 8 kHz."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import re

FSDD_URL = "github.com/Jakobovski/free-spoken-digit-dataset"
_NAME = re.compile(r"^(\d)_([A-Za-z]+)_(\d+)\.wav$")


@dataclasses.dataclass(frozen=True)
class FsddClip:
    path: str
    digit: int
    speaker: str
    take: int


def default_fsdd_dir() -> str | None:
    """``$RT_KERAS_FSDD``, else ``../shared/data/fsdd`` beside the project, when it exists."""
    if os.environ.get("RT_KERAS_FSDD"):
        return os.environ["RT_KERAS_FSDD"]
    beside_project = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data" / "fsdd"
    return str(beside_project) if beside_project.is_dir() else None


def index_fsdd(directory) -> list[FsddClip]:
    """Every recording under ``directory`` (FSDD's layout), sorted by name."""
    if directory is None:
        raise FileNotFoundError(
            f"no FSDD directory configured: clone {FSDD_URL} and set data.fsdd_dir "
            "(e.g. --set data.fsdd_dir=/path/to/free-spoken-digit-dataset) or $RT_KERAS_FSDD")
    recordings = pathlib.Path(directory) / "recordings"
    if not recordings.is_dir():
        raise FileNotFoundError(
            f"FSDD directory {directory!s} has no recordings/ folder: expected FSDD's layout "
            f"(recordings/{{digit}}_{{speaker}}_{{take}}.wav, as in {FSDD_URL})")
    clips = []
    for path in sorted(recordings.iterdir()):
        match = _NAME.match(path.name)
        if match:
            clips.append(FsddClip(str(path), int(match[1]), match[2], int(match[3])))
    if not clips:
        raise FileNotFoundError(f"{recordings}: no files named {{digit}}_{{speaker}}_{{take}}.wav")
    return clips


def speakers(clips) -> list[str]:
    return sorted({clip.speaker for clip in clips})
