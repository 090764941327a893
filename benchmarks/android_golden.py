"""Golden fixtures for the Android core's decoder from a real trained model: the per-frame
log-probabilities a converted .tflite (run by ai-edge-litert) gives for one recording,
and the transcript the Python decoder reads from them. The JUnit test GoldenTest decodes
the same numbers in Java and must get the same, non-empty, transcript. Only model outputs
are stored (no audio).

    python benchmarks/android_golden.py runs/rt/model-qat-int8.tflite [--wav FSDD/recordings/7_theo_3.wav]
    python benchmarks/android_golden.py runs/commands/model-qat-int8.tflite --wav WAV --out .../commands-golden.json
    python benchmarks/android_golden.py --subword   # a subword vocabulary (no trained model: see subword_fixture)
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESOURCES = ROOT / "android_demo" / "core" / "src" / "test" / "resources" / "org" / "rtkeras" / "demo" / "core"
OUT = RESOURCES / "demo-golden.json"
SUBWORD_OUT = RESOURCES / "subword-golden.json"


def subword_fixture() -> dict:
    """A subword vocabulary (sentencepiece, trained on the command phrases of
    benchmarks/commands_data.py) and seeded log-probabilities whose best path spells
    "turn on the light" with repeated frames and blanks between tokens: the decoding rule
    for subwords, without a trained subword model."""
    import numpy as np

    from benchmarks.commands_data import PHRASES
    from rt_keras import vocabulary as vocabulary_lib
    from rt_keras.task import greedy_decode

    vocabulary = vocabulary_lib.build("subword", [vocabulary_lib.normalise(p) for p in PHRASES], 48)
    rng = np.random.default_rng(0)
    path = []
    for token in vocabulary.encode("turn on the light"):
        path += [token] * int(rng.integers(1, 3)) + [0] * int(rng.integers(0, 2))
    scores = rng.normal(size=(len(path), len(vocabulary)))
    scores[np.arange(len(path)), path] += 6.0
    log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
    log_probs = np.round(log_probs, 5)
    return {"model": None, "mode": None, "wav": None, "vocabulary": list(vocabulary.tokens),
            "transcript": vocabulary.decode(greedy_decode(log_probs)),
            "log_probs": [[float(v) for v in frame] for frame in log_probs]}


def main(argv=None) -> int:
    import numpy as np
    import soundfile

    from converters.metadata import read_metadata
    from converters.runner import TFLiteModel
    from rt_keras.task import greedy_decode, pcm_to_float
    from rt_keras.vocabulary import decode_ids
    from rt_keras.data.fsdd import default_fsdd_dir
    from converters.files import atomic_write_text

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", help="a .tflite converted by rt-keras convert (with metadata)")
    parser.add_argument("--wav", help="default: FSDD recordings/7_theo_3.wav")
    parser.add_argument("--out", help=f"default: {OUT.name} ({SUBWORD_OUT.name} with --subword) in the core's "
                                      "test resources")
    parser.add_argument("--subword", action="store_true", help="write the subword fixture (no model)")
    args = parser.parse_args(argv)
    if args.subword:
        fixture = subword_fixture()
        atomic_write_text(args.out or SUBWORD_OUT, json.dumps(fixture, ensure_ascii=False) + "\n")
        print(f"{args.out or SUBWORD_OUT}: transcript {fixture['transcript']!r}")
        return 0
    if not args.model:
        parser.error("give a .tflite model (or --subword)")
    wav = pathlib.Path(args.wav or pathlib.Path(default_fsdd_dir() or "FSDD") / "recordings" / "7_theo_3.wav")
    model = pathlib.Path(args.model).read_bytes()
    metadata = read_metadata(model)
    samples, rate = soundfile.read(wav, dtype="int16")
    target = metadata["sample_rate"]
    audio = pcm_to_float(samples)
    count = len(audio) * target // rate
    audio = np.interp(np.arange(count) * rate / target, np.arange(len(audio)), audio).astype(np.float32)
    log_probs = TFLiteModel(model)(audio[None])[0]
    vocabulary = metadata["vocabulary"]
    transcript = decode_ids(vocabulary, greedy_decode(log_probs))
    fixture = {"model": pathlib.Path(args.model).name, "mode": metadata.get("info", {}).get("mode"),
               "wav": wav.name, "vocabulary": vocabulary, "transcript": transcript,
               "log_probs": [[round(float(v), 5) for v in frame] for frame in log_probs]}
    out = args.out or OUT
    atomic_write_text(out, json.dumps(fixture, ensure_ascii=False) + "\n")
    print(f"{out}: {len(log_probs)} frames, transcript {transcript!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
