"""The user's own recordings: manifests that list audio files with their transcripts.

A manifest is JSON Lines (one ``{"audio": "path.wav", "text": "...", "speaker": "..."}``
per line) or CSV with the same header (``.csv``). Audio paths are relative to the
manifest's directory (absolute paths are accepted unless ``strict_paths``). ``speaker``
is optional unless splits are carved by speaker.

Problems with the manifest itself (cannot be parsed, a row without ``audio`` or
``text``, a path outside the manifest's tree with ``strict_paths``, the same audio in
two splits) raise ``ManifestError`` naming the file and line. Problems with one row's
data (missing or unreadable audio, empty text, a repeated row) skip the row with a
counted, named warning.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import pathlib
import warnings

from tqdm import tqdm

from rt_keras.core.contracts import float_to_pcm
from rt_keras.core.encoder_config import ConfigError
from rt_keras.core.vocabulary import normalise
from rt_keras.data.audio import AudioError, read_wav

FIELDS = ("audio", "text", "speaker")


class ManifestError(ConfigError):
    """The manifest cannot be used as it is: the message names the file, line and problem."""


@dataclasses.dataclass(frozen=True)
class Row:
    audio: pathlib.Path
    text: str  # normalised
    speaker: str
    where: str  # "train.jsonl line 7", for messages


def _records(path: pathlib.Path):
    """(line number, dict) for every row of a JSON Lines or CSV manifest."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        missing = [f for f in FIELDS[:2] if f not in (reader.fieldnames or [])]
        if missing:
            raise ManifestError(f"{path}: CSV header {reader.fieldnames} lacks {missing}; expected columns "
                                f"{', '.join(FIELDS)} (speaker optional)")
        for number, record in enumerate(reader, 2):
            yield number, record
        return
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ManifestError(f"{path} line {number}: not JSON ({error.msg}); each line must be one object "
                                'like {"audio": "clip.wav", "text": "turn on the light", "speaker": "anna"}') from None
        if not isinstance(record, dict):
            raise ManifestError(f"{path} line {number}: expected a JSON object, got {type(record).__name__}")
        yield number, record


def read_rows(path, strict_paths: bool = False) -> tuple[list[Row], list[str]]:
    """Rows of the manifest at ``path`` and the named reasons for rows skipped."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest {path} not found")
    root = path.resolve().parent
    rows, skipped, seen = [], [], {}
    for number, record in _records(path):
        where = f"{path.name} line {number}"
        missing = [f for f in FIELDS[:2] if f not in record or record[f] is None]
        if missing:
            raise ManifestError(f"{path} line {number}: no {' or '.join(repr(m) for m in missing)} field; "
                                f"every row needs audio and text")
        if not isinstance(record["audio"], str) or not isinstance(record["text"], str):
            raise ManifestError(f"{path} line {number}: audio and text must be strings")
        audio = (root / record["audio"]).resolve()
        if strict_paths and not audio.is_relative_to(root):
            raise ManifestError(f"{path} line {number}: {record['audio']!r} is outside the manifest's "
                                f"directory {root} (strict_paths)")
        text = normalise(record["text"])
        if audio in seen:
            skipped.append(f"{where}: repeats {audio.name} of line {seen[audio]}")
        elif not text:
            skipped.append(f"{where}: empty transcript {record['text']!r}")
        elif not audio.is_file():
            skipped.append(f"{where}: audio file {audio} not found")
        else:
            seen[audio] = number
            rows.append(Row(audio, text, str(record.get("speaker") or "").strip(), where))
    if not rows:
        raise ManifestError(f"{path}: no usable rows" + (f" ({len(skipped)} skipped, first: {skipped[0]})"
                                                          if skipped else ""))
    return rows, skipped


def carve(rows: list[Row], by: str, fractions: dict, seed: int) -> dict:
    """``rows`` split into ``{"train": ..., name: ...}`` for each ``name: fraction``:
    whole speakers go to one split (``by="speaker"``) or single rows (``"utterance"``),
    chosen by a seeded hash, so adding rows moves no earlier speaker."""
    if by == "speaker":
        unnamed = [r.where for r in rows if not r.speaker]
        if unnamed:
            raise ManifestError(f"{unnamed[0]}: no speaker; data.split_by=speaker needs a speaker on every row "
                                f"({len(unnamed)} rows lack one), or set data.split_by=utterance")
        key = lambda row: row.speaker  # noqa: E731
    else:
        key = lambda row: str(row.audio)  # noqa: E731
    groups = sorted({key(r) for r in rows}, key=lambda g: hashlib.sha256(f"{seed}:{g}".encode()).hexdigest())
    if len(groups) < len(fractions) + 1:
        raise ManifestError(f"data.split_by={by}: {len(groups)} {by}(s) cannot make train and "
                            f"{', '.join(fractions)}; give those manifests or use more {by}s")
    assigned, start = {}, 0
    for name, fraction in fractions.items():
        count = max(1, round(fraction * len(groups)))
        assigned.update({g: name for g in groups[start:start + count]})
        start += count
    if start >= len(groups):
        raise ManifestError(f"data.split_by={by}: the fractions {fractions} leave no {by} for training")
    out = {"train": [], **{name: [] for name in fractions}}
    for row in rows:
        out[assigned.get(key(row), "train")].append(row)
    return out


def manifest_splits(config, progress: bool, skipped: list):
    """(name, transcripts, utterances, {speaker: description}) of the user's manifests:
    train first, then validation and the test splits (given, or carved from train by
    ``data.split_by``)."""
    rows = {}
    for name, path in config.manifests.items():
        rows[name], problems = read_rows(path, config.strict_paths)
        skipped += problems
        for problem in problems:
            warnings.warn(f"skipping {problem}", stacklevel=2)
    owner = {}
    for name, split_rows in rows.items():
        for row in split_rows:
            if owner.setdefault(row.audio, (name, row.where))[0] != name:
                raise ManifestError(f"{row.audio} is in two splits ({owner[row.audio][1]} and {row.where}): "
                                             "a recording used for training must not be tested on")
    carved = {"validation": config.validation_fraction} if "validation" not in rows else {}
    if not any(name.startswith("test") for name in rows):
        carved["test"] = config.test_fraction
    if carved:
        rows.update(carve(rows.pop("train"), config.split_by, carved, config.seed))
    order = ["train", "validation", *sorted(n for n in rows if n.startswith("test"))]

    def utterances(name):  # read one recording at a time: the split is never all in memory
        usable = 0
        for row in tqdm(rows[name], desc=f"{name:>15}", unit="utt", disable=not progress):
            try:
                audio = read_wav(row.audio, max_seconds=config.max_seconds)
            except AudioError as error:
                skipped.append(f"{row.where}: {error}")
                warnings.warn(f"skipping {row.where}: {error}", stacklevel=2)
                continue
            usable += 1
            yield float_to_pcm(audio), row.text, row.speaker or "unknown"
        if not usable:
            raise ManifestError(f"split {name!r}: none of its {len(rows[name])} rows has usable audio "
                                         f"(first problem: {skipped[-1] if skipped else 'none'})")

    for name in order:
        yield (name, [row.text for row in rows[name]], utterances(name),
               {row.speaker or "unknown": {"engine": "manifest", "split": name} for row in rows[name]})
