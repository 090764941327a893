"""Isolated spoken digits, one clip an utterance, as an evaluation of many real speakers has
them: the digit task's splits compose 1-4 clips with 0.05-0.25 s of silence at the edges,
while a digit cut from a recording has almost none and a push-to-talk clip a second or more.

    python -m benchmarks.isolated_digits runs/rt [RUN_DIR ...] [--tflite model-qat-int8.tflite]
        [--padding 0.05 0.3 0.1:0]

Two splits, built here from FSDD (deterministic, independent of the runs' data caches):

  dev_isolated        the training speakers' validation takes (the last data.validation_takes;
                      no training utterance has them), each clip alone as two pseudo-speakers
                      of its own (vocal tract and pitch drawn per clip from data.formant_range and
                      data.pitch_range: seen speakers read isolated digits almost perfectly),
                      half as recorded, half with 0-1 s of the faint noise floor before and
                      after (drawn per clip, seeded): a development split, for choosing;
  test_real_isolated  every clip of the test speakers (theo) alone, as recorded: report only;
                      with --padding S, also test_real_isolated_pad<S>: each with S seconds of
                      the faint noise floor before and after it (LEAD:TRAIL: that much before
                      and after).

Each run's results go to RUN_DIR/isolated_digits.json (FILE.tflite.isolated_digits.json with
--tflite), per-utterance errors included, so `benchmarks.pooled_compare` can pair two arms.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

DEV_EDGE_SECONDS = (0.0, 1.0)
SEED = 7300
DEV_COPIES = 2  # pseudo-speakers per validation clip


def isolated_splits(data_config, padding=()) -> dict:
    """{name: Split} of single clips, as the module docstring describes them."""
    from rt_keras.data import pseudo_speakers
    from rt_keras.data.audio import MODEL_SAMPLE_RATE, read_wav
    from rt_keras.data.digits import DIGIT_WORDS, NOISE_FLOOR
    from rt_keras.data.fsdd import default_fsdd_dir, index_fsdd
    from rt_keras.data.storage import Split

    clips = index_fsdd(data_config.fsdd_dir or default_fsdd_dir())
    takes = {}  # the validation takes as rt_keras.data.digits._fsdd_clips chooses them
    for clip in clips:
        takes[clip.speaker] = max(takes.get(clip.speaker, 0), clip.take + 1)
    validation = [c for c in clips if c.speaker in data_config.train_speakers
                  and c.take >= takes[c.speaker] - data_config.validation_takes]
    test = [c for c in clips if c.speaker in data_config.test_speakers]

    def surround(samples, before: float, after: float, rng):
        before, after = (np.zeros(int(seconds * MODEL_SAMPLE_RATE), np.float32) for seconds in (before, after))
        samples = np.concatenate([before, samples, after])
        return samples + rng.normal(scale=NOISE_FLOOR, size=samples.shape).astype(np.float32)

    def split(chosen, development: bool, pad: tuple = ()):
        audio = []
        for index, clip in enumerate(chosen):
            samples = read_wav(clip.path, max_seconds=data_config.max_clip_seconds)
            if pad:
                samples = surround(samples, *pad, np.random.default_rng([SEED, 1, index]))
            if development:
                rng = np.random.default_rng([SEED, index])  # chosen lists every clip twice: index differs
                voice = pseudo_speakers.sample_perturbations(1, rng, data_config.formant_range, data_config.pitch_range,
                                                             pseudo_speakers.median_pitch(samples))[0]
                samples = pseudo_speakers.change_voice(samples, voice)
                if rng.random() < 0.5:
                    samples = surround(samples, rng.uniform(*DEV_EDGE_SECONDS), rng.uniform(*DEV_EDGE_SECONDS), rng)
            audio.append(np.round(np.clip(samples, -1, 1) * 32767).astype(np.int16))
        return Split(audio, [DIGIT_WORDS[c.digit] for c in chosen], [c.speaker for c in chosen])

    return {"dev_isolated": split(validation * DEV_COPIES, development=True),
            "test_real_isolated": split(test, development=False),
            **{f"test_real_isolated_pad{pad}": split(test, False, _lead_trail(pad)) for pad in padding}}


def _lead_trail(padding: str) -> tuple[float, float]:
    """'S' -> (S, S); 'LEAD:TRAIL' -> (LEAD, TRAIL), seconds >= 0 (ValueError otherwise)."""
    parts = [float(part) for part in str(padding).split(":")]
    if len(parts) not in (1, 2) or min(parts) < 0 or max(parts) == 0:
        raise ValueError(f"padding {padding!r}: expected SECONDS or LEAD:TRAIL, seconds >= 0, not both 0")
    return (parts[0], parts[-1])


def evaluate(run_dir, tflite: str | None = None, padding=()) -> tuple[dict, pathlib.Path]:
    from converters.files import atomic_write_json
    from converters.runner import TFLiteModel
    from rt_keras.runs.run_dir import RunDir
    from rt_keras.training.evaluation import evaluate_split

    run = RunDir(run_dir)
    config = run.load_config()
    if tflite:
        path = run.path / tflite
        model, batch_size, report = TFLiteModel(path), 1, path.with_name(path.name + ".isolated_digits.json")
    else:
        model, batch_size, report = run.load_model(), 32, run.path / "isolated_digits.json"
    results = {name: evaluate_split(model, split, config.frontend, batch_size)
               for name, split in isolated_splits(config.data, padding).items()}
    atomic_write_json(report, results)
    return results, report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR")
    parser.add_argument("--tflite", metavar="FILE", help="score this file of each run (e.g. model-qat-int8.tflite) "
                        "instead of its Keras model")
    parser.add_argument("--padding", nargs="+", default=[], metavar="SECONDS|LEAD:TRAIL",
                        help="also score theo's clips with this much silence before and after each")
    args = parser.parse_args(argv)
    try:
        [_lead_trail(pad) for pad in args.padding]
    except ValueError as error:
        parser.error(f"--padding: {error}")
    from rt_keras.core.wer_stats import format_wer

    for run_dir in args.runs:
        results, report = evaluate(run_dir, args.tflite, args.padding)
        for name, result in results.items():
            print(f"{run_dir}  {name:<19} {format_wer(result).strip()}  "
                  f"sub/del/ins {result['substitutions']}/{result['deletions']}/{result['insertions']}", flush=True)
        print(f"  -> {report}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
