"""How loud each word is, and which words a model drops.

    python -m benchmarks.word_levels speakers --fsdd DIR
    python -m benchmarks.word_levels deletions --data .cache/data/digits-KEY --split test_real \\
        --tflite runs/A/seed-0/model-qat-int8.tflite runs/B/seed-0/model-qat-int8.tflite

``speakers``: per FSDD speaker, the active level of each recording (one spoken digit) in dBFS,
its median and spread. ``deletions``: each word of the split's utterances is found by its
energy (utterances whose number of sound stretches is not their number of words are left out),
its level is taken relative to the utterance's loudest word, and for every model the share of
words it deleted or substituted at each relative level is counted. A model that has learnt to
take a quiet talker for background babble drops the quiet words of one speaker.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

from rt_keras.core.wer_stats import alignment
from rt_keras.data import noises

FRAME_SECONDS = 0.01  # the power is measured in 10 ms frames
BINS = ((-1.0, "loudest (0 to -1 dB)"), (-6.0, "-1 to -6 dB"), (-12.0, "-6 to -12 dB"), (-np.inf, "below -12 dB"))


def word_levels_db(audio, rate: int, floor_db: float = 40.0, min_gap: float = 0.12, min_length: float = 0.05) -> list:
    """Power (dB) of each stretch of sound in ``audio``: 10 ms frames within ``floor_db`` of the
    loudest, stretches closer than ``min_gap`` seconds joined, ones shorter than ``min_length`` dropped."""
    x = np.asarray(audio, np.float64)
    frame = int(rate * FRAME_SECONDS)
    power = np.mean(x[: x.size // frame * frame].reshape(-1, frame) ** 2, axis=1) + 1e-20
    loud = np.concatenate([[False], power >= power.max() * 10 ** (-floor_db / 10), [False]])
    edges = np.flatnonzero(np.diff(loud.astype(int)))
    stretches = []
    for start, end in zip(edges[::2], edges[1::2]):
        if stretches and (start - stretches[-1][1]) * FRAME_SECONDS < min_gap:
            stretches[-1][1] = end
        else:
            stretches.append([start, end])
    return [10 * np.log10(np.mean(power[a:b])) for a, b in stretches if (b - a) * FRAME_SECONDS >= min_length]


def outcomes_by_level(references: list[str], hypotheses: list[str], levels: list) -> dict:
    """{bin: {"words", "deleted", "substituted"}} over the utterances whose ``levels`` (one per
    reference word, dB, or None to skip the utterance) are given."""
    table = {label: {"words": 0, "deleted": 0, "substituted": 0} for _, label in BINS}
    for reference, hypothesis, level in zip(references, hypotheses, levels):
        if level is None:
            continue
        words = iter(np.asarray(level) - max(level))
        for operation in alignment(reference.split(), hypothesis.split()):
            if operation == "insertion":
                continue
            relative = next(words)
            row = table[next(label for bound, label in BINS if relative > bound)]
            row["words"] += 1
            row["deleted"] += operation == "deletion"
            row["substituted"] += operation == "substitution"
    return table


def speakers_table(fsdd_dir) -> str:
    from rt_keras.data.audio import read_wav

    levels: dict[str, list] = {}
    for path in sorted(pathlib.Path(fsdd_dir).rglob("*.wav")):
        audio = read_wav(path, target_rate=8000)  # FSDD's own rate: no resampling
        levels.setdefault(path.stem.split("_")[1], []).append(10 * np.log10(noises.active_power(audio)))
    if not levels:
        raise SystemExit(f"{fsdd_dir}: no FSDD recordings (DIGIT_SPEAKER_TAKE.wav) in it")
    rows = ["| speaker | recordings | median level (dBFS) | sd (dB) | 5th-95th percentile (dB) |",
            "|---|---|---|---|---|"]
    for speaker, values in levels.items():
        low, median, high = np.percentile(values, [5, 50, 95])
        rows.append(f"| {speaker} | {len(values)} | {median:.1f} | {np.std(values):.1f} | {low:.1f} to {high:.1f} |")
    return "\n".join(rows)


def deletions_table(data, split_name: str, tflite_files) -> str:
    from converters.runner import TFLiteModel
    from rt_keras.data.audio import MODEL_SAMPLE_RATE
    from rt_keras.data.storage import load_split
    from rt_keras.runs.run_dir import RunDir
    from rt_keras.training.evaluation import decode_split

    split = load_split(data, split_name)
    levels = []
    for audio, transcript in zip(split.audio, split.transcripts):
        found = word_levels_db(audio.astype(np.float64) / 32768, MODEL_SAMPLE_RATE)
        levels.append(found if len(found) == len(transcript.split()) else None)
    kept = sum(level is not None for level in levels)
    rows = [f"{kept} of {len(levels)} utterances of {split_name} have as many stretches of sound as words.", "",
            "| model | " + " | ".join(label for _, label in BINS) + " |", "|---|" + "---|" * len(BINS)]
    for path in tflite_files:
        frontend = RunDir(pathlib.Path(path).parent).load_config().frontend  # the run the file was exported from
        hypotheses = decode_split(TFLiteModel(path), split, frontend, batch_size=1)
        table = outcomes_by_level(split.transcripts, hypotheses, levels)
        cells = [f"{row['deleted']}/{row['words']} deleted ({100 * row['deleted'] / max(row['words'], 1):.1f}%), "
                 f"{row['substituted']} substituted" for row in table.values()]
        rows.append(f"| {path} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.word_levels", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    speakers = commands.add_parser("speakers", help="the level of every FSDD speaker's words")
    speakers.add_argument("--fsdd", required=True, help="FSDD's directory (its recordings/ or the files)")
    deletions = commands.add_parser("deletions", help="the words each model deletes, by their relative level")
    deletions.add_argument("--data", required=True, help="a materialised data directory (.cache/data/digits-KEY)")
    deletions.add_argument("--split", default="test_real")
    deletions.add_argument("--tflite", nargs="+", required=True,
                           help=".tflite files in the run directories they were exported from")
    args = parser.parse_args(argv)
    try:
        print(speakers_table(args.fsdd) if args.command == "speakers"
              else deletions_table(args.data, args.split, args.tflite))
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
