"""How much a model's WER depends on where its frames fall in the speech: the run's Keras
model on a split whose every utterance has N samples in front (zeros, the utterance's start
reflected, or noise at -70 dBFS), for several N.

    python -m benchmarks.frame_offsets runs/rt runs/rt-stream --split test_tts_unseen [test_real ...] \\
        --offsets 0 40 120 240 352 480 640 1280 [--fill zeros|reflect|noise]

Each run's results go to RUN_DIR/frame_offsets/FILL-N.json (one file an offset, every split
scored so far, per-utterance errors included), so `benchmarks.pooled_compare` can pair two
offsets of the same runs.

A streaming file run chunk by chunk is its Keras model on the utterance with
``frame_length - frame_step`` samples (352 at the defaults) in front (rt_keras/model/streaming.py),
so the file and the Keras model are scored at different offsets. The spread over offsets is
training-free measurement noise that a bootstrap over utterances does not see.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import sys

import numpy as np

FILLS = {
    "zeros": lambda audio, n, rng: np.zeros(n, audio.dtype),
    "reflect": lambda audio, n, rng: np.flip(audio[1:n + 1]),  # n < the utterance's length
    "noise": lambda audio, n, rng: (rng.standard_normal(n) * 32768 * 10 ** (-70 / 20)).astype(audio.dtype),
}


def offset_wers(run_dir, split_names, offsets, fill: str = "zeros") -> dict:
    """{split: {offset: evaluation}}; each offset's evaluations are also written to
    RUN_DIR/frame_offsets/FILL-OFFSET.json (merged with the splits it already holds)."""
    from converters.files import atomic_write_json
    from rt_keras.data.storage import data_directory, load_split
    from rt_keras.runs.run_dir import RunDir
    from rt_keras.training.evaluation import evaluate_split

    run = RunDir(run_dir)
    config, model = run.load_config(), run.load_model()
    splits = {name: load_split(data_directory(config), name) for name in split_names}
    results = {name: {} for name in split_names}
    rngs = {name: np.random.default_rng(0) for name in split_names}  # a split's noise: whatever the other splits
    for offset in offsets:
        report = run.path / "frame_offsets" / f"{fill}-{offset}.json"
        written = json.loads(report.read_text()) if report.is_file() else {}
        for name, split in splits.items():
            audio = [np.concatenate([FILLS[fill](a, offset, rngs[name]), a]) for a in split.audio]
            results[name][offset] = written[name] = evaluate_split(model, dataclasses.replace(split, audio=audio),
                                                                   config.frontend)
        atomic_write_json(report, written)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR")
    parser.add_argument("--split", "--splits", dest="splits", nargs="+", default=["test_tts_unseen"], metavar="SPLIT")
    parser.add_argument("--offsets", nargs="+", type=int, default=[0, 40, 120, 240, 352, 480, 640, 1280],
                        metavar="SAMPLES", help="samples (16 kHz) in front of every utterance")
    parser.add_argument("--fill", choices=sorted(FILLS), default="zeros", help="what those samples are")
    args = parser.parse_args(argv)
    if min(args.offsets) < 0:
        parser.error(f"--offsets {args.offsets}: expected sample counts >= 0")
    print(f"WER in % with N samples of {args.fill} in front of every utterance")
    print(f"{'run':<27} {'split':<21}" + "".join(f"{n:>8}" for n in args.offsets) + "   range (words)")
    for run_dir in args.runs:
        for split, results in offset_wers(run_dir, args.splits, args.offsets, args.fill).items():
            rates = [100 * r["wer"] for r in results.values()]
            words = next(iter(results.values()))["words"]
            print(f"{run_dir:<27} {split:<21}" + "".join(f"{rate:8.2f}" for rate in rates)
                  + f"   {min(rates):.2f}-{max(rates):.2f} ({words:,})", flush=True)
        print(f"  -> {pathlib.Path(run_dir) / 'frame_offsets'}/{args.fill}-N.json", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
