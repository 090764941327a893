"""Probes of trained chunked runs, behind the diagnosis in docs/results.md "Streaming":
the WER of a chunked model decoded with other chunk and left-context sizes than it was
trained with, its WER by utterance length (words per utterance), and how many encoder
frames before the end of an utterance its labels are emitted. Each WER with its 95%
bootstrap interval and word count; nothing is written.

    python -m benchmarks.streaming_probes runs/streaming-long/rt-k3-r16-chunk320-e12/seed-0 \\
        --masks 8:32 16:32 --compare runs/streaming-long/rt-k3-r16-e12/seed-0
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _percent(result: dict) -> str:
    low, high = result["ci95"]
    return f"{100 * result['wer']:.2f}% [{100 * low:.1f}, {100 * high:.1f}] ({result['words']:,} words)"


def emission_frames_before_end(model, split, frontend) -> list[int]:
    """For every label the greedy path emits, how many encoder frames before the
    utterance's last frame it is emitted."""
    from rt_keras.core.contracts import output_frames, pcm_to_float

    distances = []
    for audio in split.audio:
        frames = output_frames(audio.size, frontend)
        best = np.asarray(model(pcm_to_float(audio)[None], training=False))[0, :frames].argmax(-1)
        distances += [frames - t for t in range(frames) if best[t] != 0 and (t == 0 or best[t] != best[t - 1])]
    return distances


def probe(run_dir: pathlib.Path, split_name: str, masks: list[str]) -> None:
    from rt_keras.core import run_config
    from rt_keras.core.wer_stats import wer_interval
    from rt_keras.data.materialise import materialise
    from rt_keras.data.storage import load_split
    from rt_keras.layers import ScaledDotProductAttention
    from rt_keras.runs.run_dir import RunDir
    from rt_keras.training.evaluation import evaluate_split

    config = run_config.load_resolved(run_dir / "config.yaml")
    model = RunDir(run_dir).load_model()
    split = load_split(materialise(config, progress=False), split_name)
    print(f"{run_dir} on {split_name}")
    attention = [layer for layer in model.layers if isinstance(layer, ScaledDotProductAttention)]
    for mask in masks if attention and attention[0].chunk_frames else []:
        chunk, left = (int(part) for part in mask.split(":"))
        for layer in attention:
            layer.chunk_frames, layer.left_context_frames = chunk, left
        print(f"  decoded with chunk {chunk} and left context {left} frames: "
              f"{_percent(evaluate_split(model, split, config.frontend))}")
    if attention and attention[0].chunk_frames:  # back to the trained mask
        for layer in attention:
            layer.chunk_frames, layer.left_context_frames = (
                config.encoder.chunk_frames,
                config.encoder.left_context_frames,
            )
    result = evaluate_split(model, split, config.frontend)
    errors, words = np.array(result["utterance_errors"]), np.array(result["utterance_words"])
    print(f"  as trained: {_percent(result)}")
    for length in sorted(set(words)):
        chosen = words == length
        print(f"  utterances of {length} word(s): {_percent(wer_interval(errors[chosen], words[chosen]))}")
    distances = emission_frames_before_end(model, split, config.frontend)
    print(f"  labels emitted: {len(distances):,}, median {np.median(distances):.0f} encoder frames before the end")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("run", type=pathlib.Path, help="a trained run directory")
    parser.add_argument("--split", default="test_real", help="the split to probe (default: test_real)")
    parser.add_argument(
        "--masks",
        nargs="*",
        default=[],
        metavar="CHUNK:LEFT",
        help="decode a chunked run with these chunk and left-context sizes (encoder frames)",
    )
    parser.add_argument(
        "--compare",
        nargs="*",
        type=pathlib.Path,
        default=[],
        metavar="RUN",
        help="other runs to probe the same way (their own masks)",
    )
    args = parser.parse_args(argv)
    for run in [args.run, *args.compare]:
        probe(run, args.split, args.masks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
