"""The Android core's continuous-recognition fixture: a short 16 kHz recording of three FSDD
digits said one after another with pauses between them, as a user of the app's continuous
mode would say them, and where each digit lies in it. The JUnit test ContinuousTest cuts it
into utterances with UtteranceSegmenter and checks each digit lands in its own utterance.

    python benchmarks/android_continuous_fixture.py

The clips come from the Free Spoken Digit Dataset (FSDD), CC BY-SA 4.0, Zohar Jackson and
contributors (https://github.com/Jakobovski/free-spoken-digit-dataset); the fixture is a
derivative under the same licence (android_demo/core/src/test/resources/.../
continuous-fixture.LICENSE.txt). It is resampled 8 -> 16 kHz with soxr as in training, and
the pauses hold quiet noise (-60 dBFS, fixed seed) so the VAD sees a real noise floor.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]

RESOURCES = ROOT / "android_demo" / "core" / "src" / "test" / "resources" / "org" / "rtkeras" / "demo" / "core"
CLIPS = ("4_george_7", "1_nicolas_3", "7_theo_9")
RATE = 16000
LEAD_S, PAUSE_S, TAIL_S = 0.5, 1.0, 1.0
LICENSE = """continuous-fixture.wav is a derivative of three recordings of the Free Spoken Digit
Dataset (FSDD), https://github.com/Jakobovski/free-spoken-digit-dataset, by Zohar Jackson and
contributors, licensed CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/):
{clips}. Changes: resampled from 8 kHz to 16 kHz, placed one after another with pauses of
quiet noise (benchmarks/android_continuous_fixture.py). The fixture is licensed CC BY-SA 4.0.
"""


def build(fsdd: pathlib.Path) -> tuple[np.ndarray, list[dict]]:
    import soundfile
    import soxr

    rng = np.random.default_rng(29)
    pieces, marks, at = [], [], 0

    def pause(seconds: float):
        nonlocal at
        noise = rng.normal(0, 10 ** (-60 / 20), int(seconds * RATE)).astype(np.float32)
        pieces.append(noise)
        at += len(noise)

    pause(LEAD_S)
    for i, name in enumerate(CLIPS):
        audio, rate = soundfile.read(fsdd / "recordings" / f"{name}.wav", dtype="float32")
        clip = soxr.resample(audio, rate, RATE).astype(np.float32)
        pieces.append(clip)
        marks.append({"clip": name, "digit": int(name.split("_")[0]), "start": at, "end": at + len(clip)})
        at += len(clip)
        pause(PAUSE_S if i < len(CLIPS) - 1 else TAIL_S)
    audio = np.concatenate(pieces)
    return np.clip(np.round(audio * 32767), -32768, 32767).astype(np.int16), marks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fsdd", type=pathlib.Path, default=None, help="FSDD directory (default: the project's)")
    parser.add_argument("--out", type=pathlib.Path, default=RESOURCES)
    args = parser.parse_args(argv)
    import soundfile

    # The project's FSDD: $RT_KERAS_FSDD, else shared/data/fsdd beside the checkout (rt_keras.data.fsdd's default).
    fsdd = args.fsdd or pathlib.Path(os.environ.get("RT_KERAS_FSDD") or ROOT.parent / "shared" / "data" / "fsdd")
    samples, marks = build(fsdd)
    args.out.mkdir(parents=True, exist_ok=True)
    soundfile.write(args.out / "continuous-fixture.wav", samples, RATE, subtype="PCM_16")
    (args.out / "continuous-fixture.json").write_text(json.dumps(
        {"sample_rate": RATE, "utterances": marks,
         "source": "FSDD, CC BY-SA 4.0, Zohar Jackson and contributors"}, indent=1) + "\n")
    (args.out / "continuous-fixture.LICENSE.txt").write_text(LICENSE.format(clips=", ".join(f"{c}.wav" for c in CLIPS)))
    print(f"{args.out / 'continuous-fixture.wav'}: {len(samples) / RATE:.2f} s, {len(marks)} utterances")
    return 0


if __name__ == "__main__":
    sys.exit(main())
