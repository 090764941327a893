"""How much louder is noise at a nominal SNR when the SNR is measured against the speech's
active power (``rt_keras.data.noises.mix_at_snr``: the real-world noise kinds in training, every
development and held-out noisy split) than against the whole utterance's mean power (the
original white/brown augmentation, ``rt_keras.data.augment.add_noise``)? Per utterance of
materialised splits: 10 log10(active power / mean power), in dB.

    python -m benchmarks.snr_reference --data .cache/data/digits-KEY [--splits dev_clean test_real]

A training arm that switches from white/brown to the real-world kinds changes both the kinds
and, by this much, the level of its noise at the same ``data.augment.snr_db`` range.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from rt_keras.data import noises, storage


def level_gaps_db(audio) -> np.ndarray:
    """10 log10(active power / mean power) of each utterance (silent ones are skipped)."""
    gaps = []
    for clip in audio:
        x = np.asarray(clip, np.float64)
        mean = np.mean(x ** 2) if x.size else 0.0
        if mean > 0:
            gaps.append(10 * np.log10(noises.active_power(x) / mean))
    return np.array(gaps)


def table(data, splits) -> str:
    rows = ["| split | utterances | median (dB) | 10th percentile | 90th percentile |", "|---|---|---|---|---|"]
    for name in splits:
        gaps = level_gaps_db(storage.load_split(data, name).audio)
        if not gaps.size:
            raise SystemExit(f"{data}/{name}: no utterance with sound in it")
        low, median, high = np.percentile(gaps, [10, 50, 90])
        rows.append(f"| {name} | {gaps.size} | {median:.2f} | {low:.2f} | {high:.2f} |")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="a materialised data directory (rt-keras data)")
    parser.add_argument("--splits", nargs="+", default=["dev_clean", "test_real"], help="clean splits to measure")
    args = parser.parse_args(argv)
    try:
        print(table(args.data, args.splits))
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
