"""Golden fixture for the Android core's decoder from a real trained model: the per-frame
log-probabilities a converted .tflite (run by ai-edge-litert) gives for one FSDD recording,
and the transcript the Python decoder reads from them. The JUnit test GoldenTest decodes
the same numbers in Java and must get the same, non-empty, transcript. Only model outputs
are stored (no audio).

    python benchmarks/android_golden.py runs/rt/model-qat-int8.tflite [--wav FSDD/recordings/7_theo_3.wav]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "android_demo" / "core" / "src" / "test" / "resources" / "org" / "rtkeras" / "demo" / "core" / \
    "demo-golden.json"


def main(argv=None) -> int:
    import numpy as np
    import soundfile

    from converters.metadata import read_metadata
    from converters.runner import TFLiteModel
    from rt_keras.task import greedy_decode, pcm_to_float
    from rt_keras.data.fsdd import default_fsdd_dir
    from converters.files import atomic_write_text

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="a .tflite converted by rt-keras convert (with metadata)")
    parser.add_argument("--wav", help="default: FSDD recordings/7_theo_3.wav")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
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
    transcript = " ".join(vocabulary[i] for i in greedy_decode(log_probs))
    fixture = {"model": pathlib.Path(args.model).name, "mode": metadata.get("info", {}).get("mode"),
               "wav": wav.name, "vocabulary": vocabulary, "transcript": transcript,
               "log_probs": [[round(float(v), 5) for v in frame] for frame in log_probs]}
    atomic_write_text(args.out, json.dumps(fixture) + "\n")
    print(f"{args.out}: {len(log_probs)} frames, transcript {transcript!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
