"""Training throughput of a config at several batch sizes: the audio seconds trained per
second of wall time, as a ratio to the first batch size, from one run on this machine (the
machine is shared: ratios, not absolute times, are the result).

    python -m benchmarks.train_throughput --config configs/rt.yaml --batch-sizes 16 32 64 [--utterances 640]

Every batch size trains a fresh model on the same utterances (the first ``--utterances`` of
the training split in a fixed shuffled order, length-bucketed as in training), one pass after
a warm-up of two batches. Issue 31: twice the epochs wins on every split but does not fit the
`make demo` budget; a larger batch trains more audio per second only if the CPU kernels use
it better, and it also halves the steps, so its WER needs its own study.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from rt_keras.core import run_config
from rt_keras.data.audio import MODEL_SAMPLE_RATE


def throughput(config, batch_size: int, utterances: int) -> dict:
    from rt_keras.backend import keras
    from rt_keras.data.batches import batch_order, pad_batch
    from rt_keras.data.materialise import materialise
    from rt_keras.data.storage import load_split
    from rt_keras.model.asr import build_asr_model
    from rt_keras.model.ctc import CTCLoss

    split = load_split(materialise(config, progress=False), "train")
    chosen = np.random.default_rng(0).permutation(len(split))[:utterances]
    lengths = [split.audio[i].size for i in chosen]
    plan = [[int(chosen[j]) for j in batch] for batch in batch_order(lengths, batch_size, np.random.default_rng(0),
                                                                     shuffle=True)]
    keras.utils.set_random_seed(0)
    model = build_asr_model(config, len(split.vocabulary))
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss=CTCLoss())
    for indices in plan[:2]:  # warm-up: graph tracing
        model.train_on_batch(*pad_batch(split, indices, config.frontend))
    seconds = audio = 0.0
    for indices in plan:
        x, targets = pad_batch(split, indices, config.frontend)
        started = time.perf_counter()
        model.train_on_batch(x, targets)
        seconds += time.perf_counter() - started
        audio += sum(split.audio[i].size for i in indices) / MODEL_SAMPLE_RATE
    return {"batch_size": batch_size, "steps": len(plan), "seconds": seconds,
            "audio_seconds_per_second": audio / seconds, "utterances_per_second": sum(map(len, plan)) / seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="configs/rt.yaml")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--utterances", type=int, default=640, help="utterances trained at every batch size")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    args = parser.parse_args(argv)
    if any(b < 1 for b in args.batch_sizes) or args.utterances < 2 * max(args.batch_sizes):
        parser.error(f"--batch-sizes {args.batch_sizes} and --utterances {args.utterances}: expected positive batch "
                     "sizes and at least two batches of the largest")
    config = run_config.load(args.config, args.set)
    rows = [throughput(config, b, args.utterances) for b in args.batch_sizes]
    print(f"python -m benchmarks.train_throughput {' '.join(argv if argv is not None else sys.argv[1:])}\n")
    print("| batch size | steps | seconds | audio s per s | utterances per s | x first |")
    print("|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(f"| {row['batch_size']} | {row['steps']} | {row['seconds']:.1f} | "
              f"{row['audio_seconds_per_second']:.1f} | {row['utterances_per_second']:.1f} | "
              f"{row['audio_seconds_per_second'] / rows[0]['audio_seconds_per_second']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
