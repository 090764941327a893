"""The QAT model of a chunked run on two inputs: the plain utterance (what the
whole-utterance qat-int8 file is evaluated on) and the input a stream gives it (the
front-end's framing state of silence in front, the last chunk zero-padded and, with
look-ahead, one more chunk of silence whose first output frames are dropped). The QAT
streaming step computes the second exactly (tests/test_streaming.py), so the difference
between the two WERs is what streaming changes before any int8 conversion.

    python -m benchmarks.qat_stream_input runs/streaming-long/rt-k3-r16-chunk320-la160-ft/seed-1 [--splits test_real]
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a chunked run with its QAT fine-tuning (RUN/qat)")
    parser.add_argument("--splits", nargs="+", default=["test_real", "test_tts_unseen"])
    args = parser.parse_args(argv)

    from rt_keras.core import run_config
    from rt_keras.data.materialise import materialise
    from rt_keras.data.storage import load_split
    from rt_keras.model.streaming import StreamingShapes
    from rt_keras.runs.qat import load_qat_model
    from rt_keras.training.evaluation import evaluate_split

    config = run_config.load_resolved(pathlib.Path(args.run) / "config.yaml")
    shapes = StreamingShapes.of(config)
    qat = load_qat_model(args.run)

    def as_streamed(audio, training=False):
        padded = np.pad(shapes.stream_audio(np.asarray(audio)[0]), (shapes.audio_tail, 0))
        return np.asarray(qat(padded[None], training=False))[:, :-shapes.lookahead_frames or None]

    data = materialise(config, progress=False)
    for split in args.splits:
        utterances = load_split(data, split)
        for label, model in (("plain utterance", qat), ("stream's input", as_streamed)):
            result = evaluate_split(model, utterances, config.frontend, 1)
            low, high = (100 * v for v in result["ci95"])
            print(f"{split}, {label}: {100 * result['wer']:.2f}% [{low:.1f}, {high:.1f}] "
                  f"({result['errors']} errors, {result['words']:,} words)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
