"""How much a model's WER depends on where its frames fall in the speech: the run's Keras
model on a split whose every utterance has N samples in front (zeros, the utterance's start
reflected, or noise at -70 dBFS), for several N.

    python -m benchmarks.frame_offsets runs/rt runs/rt-stream --split test_tts_unseen \\
        --offsets 0 40 120 240 352 480 640 1280 [--fill zeros|reflect|noise]

A streaming file run chunk by chunk is its Keras model on the utterance with
``frame_length - frame_step`` samples (352 at the defaults) in front (rt_keras/model/streaming.py),
so the file and the Keras model are scored at different offsets. The spread over offsets is
training-free measurement noise that a bootstrap over utterances does not see.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import numpy as np

FILLS = {
    "zeros": lambda audio, n, rng: np.zeros(n, audio.dtype),
    "reflect": lambda audio, n, rng: np.flip(audio[1:n + 1]),  # n < the utterance's length
    "noise": lambda audio, n, rng: (rng.standard_normal(n) * 32768 * 10 ** (-70 / 20)).astype(audio.dtype),
}


def offset_wers(run_dir, split_name: str, offsets, fill: str = "zeros") -> dict:
    from rt_keras.data.storage import data_directory, load_split
    from rt_keras.runs.run_dir import RunDir
    from rt_keras.training.evaluation import evaluate_split

    run = RunDir(run_dir)
    config, model = run.load_config(), run.load_model()
    split = load_split(data_directory(config), split_name)
    results, rng = {}, np.random.default_rng(0)
    for offset in offsets:
        audio = [np.concatenate([FILLS[fill](a, offset, rng), a]) for a in split.audio]
        padded = dataclasses.replace(split, audio=audio)
        results[offset] = evaluate_split(model, padded, config.frontend)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR")
    parser.add_argument("--split", default="test_tts_unseen")
    parser.add_argument("--offsets", nargs="+", type=int, default=[0, 40, 120, 240, 352, 480, 640, 1280],
                        metavar="SAMPLES", help="samples (16 kHz) in front of every utterance")
    parser.add_argument("--fill", choices=sorted(FILLS), default="zeros", help="what those samples are")
    args = parser.parse_args(argv)
    if min(args.offsets) < 0:
        parser.error(f"--offsets {args.offsets}: expected sample counts >= 0")
    print(f"{args.split}: WER in % with N samples of {args.fill} in front")
    print("run".ljust(28) + "".join(f"{n:>8}" for n in args.offsets) + "   range (words)")
    for run_dir in args.runs:
        results = offset_wers(run_dir, args.split, args.offsets, args.fill)
        rates = [100 * r["wer"] for r in results.values()]
        words = next(iter(results.values()))["words"]
        print(str(run_dir).ljust(28) + "".join(f"{rate:8.2f}" for rate in rates)
              + f"   {min(rates):.2f}-{max(rates):.2f} ({words:,})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
