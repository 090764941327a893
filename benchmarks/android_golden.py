"""Golden fixtures for the Android core's decoder from a real trained model: the per-frame
log-probabilities a converted .tflite (run by ai-edge-litert) gives for one recording,
and the transcript the Python decoder reads from them. The JUnit test GoldenTest decodes
the same numbers in Java and must get the same, non-empty, transcript. Only model outputs
are stored (no audio).

    python benchmarks/android_golden.py runs/rt/model-qat-int8.tflite [--wav FSDD/recordings/7_theo_3.wav]
    python benchmarks/android_golden.py runs/commands/model-qat-int8.tflite --wav WAV --out .../commands-golden.json
    python benchmarks/android_golden.py --subword   # a subword vocabulary (no trained model: see subword_fixture)
    python benchmarks/android_golden.py runs/streaming/chunk320-s0-streaming-float32.tflite \
        --wav FSDD/recordings/{3_theo_0,9_theo_1,4_theo_2}.wav   # a streaming model, three digits in a row

A streaming model (`rt-keras convert --streaming`) gives streaming-golden.json instead: the
audio as the model reads it, its state layout, and per chunk the log-probabilities and the
transcript so far, for the JUnit test of StreamingTranscriber (chunking, carrying the
state by the layout, live partial transcripts).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

RESOURCES = ROOT / "android_demo" / "core" / "src" / "test" / "resources" / "org" / "rtkeras" / "demo" / "core"
OUT = RESOURCES / "demo-golden.json"
SUBWORD_OUT = RESOURCES / "subword-golden.json"
STREAMING_OUT = RESOURCES / "streaming-golden.json"


def streaming_fixture(model: bytes, audio, vocabulary: list[str]) -> dict:
    """Stream ``audio`` chunk by chunk from a fresh state as converters/runner.py does
    (``StreamingTFLiteModel.chunks``: the last chunk zero-padded, one more of silence with
    look-ahead, whose first output frames precede the audio and are left out of the
    transcript); what the app's StreamingTranscriber must reproduce."""
    import numpy as np

    from converters.runner import StreamingTFLiteModel
    from rt_keras.core.contracts import greedy_decode
    from rt_keras.core.vocabulary import decode_ids

    audio = np.round(np.asarray(audio, np.float32), 5)  # what the fixture stores is what the model read
    streaming = StreamingTFLiteModel(model)
    frames, chunks = [], []
    for chunk in streaming.chunks(audio):
        log_probs = streaming(chunk)[0]
        frames += list(log_probs)
        heard = np.array(frames[streaming.lookahead_frames:]).reshape(-1, log_probs.shape[-1])
        chunks.append({"sum": round(float(chunk.astype(np.float64).sum()), 4),
                       "log_probs": [[round(float(v), 5) for v in frame] for frame in log_probs],
                       "transcript": decode_ids(vocabulary, greedy_decode(heard))})
    return {"layout": streaming.layout, "audio": [float(v) for v in audio], "chunks": chunks,
            "transcript": chunks[-1]["transcript"]}


def subword_fixture() -> dict:
    """A subword vocabulary (sentencepiece, trained on the command phrases of
    benchmarks/commands_data.py) and seeded log-probabilities whose best path spells
    "turn on the light" with repeated frames and blanks between tokens: the decoding rule
    for subwords, without a trained subword model."""
    import numpy as np

    from benchmarks.commands_data import PHRASES
    from rt_keras.core import vocabulary as vocabulary_lib
    from rt_keras.core.contracts import greedy_decode

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

    from converters.files import atomic_write_text
    from converters.metadata import read_metadata
    from converters.runner import TFLiteModel
    from rt_keras.core.contracts import greedy_decode, pcm_to_float
    from rt_keras.core.vocabulary import decode_ids
    from rt_keras.data.fsdd import default_fsdd_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", nargs="?", help="a .tflite converted by rt-keras convert (with metadata)")
    parser.add_argument("--wav", nargs="+", help="default: FSDD recordings/7_theo_3.wav (several: one after the other)")
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
    default_wav = pathlib.Path(default_fsdd_dir() or "FSDD") / "recordings" / "7_theo_3.wav"
    wavs = [pathlib.Path(w) for w in args.wav or [default_wav]]
    model = pathlib.Path(args.model).read_bytes()
    metadata = read_metadata(model)
    target = metadata["sample_rate"]
    pieces = []
    for wav in wavs:
        samples, rate = soundfile.read(wav, dtype="int16")
        piece = pcm_to_float(samples)
        count = len(piece) * target // rate
        pieces.append(np.interp(np.arange(count) * rate / target, np.arange(len(piece)), piece).astype(np.float32))
    audio = np.concatenate(pieces)
    recordings = " + ".join(w.name for w in wavs)
    vocabulary = metadata["vocabulary"]
    if (metadata.get("info") or {}).get("streaming"):
        fixture = {"model": pathlib.Path(args.model).name, "mode": metadata["info"].get("mode"), "wav": recordings,
                   "vocabulary": vocabulary, **streaming_fixture(model, audio, vocabulary)}
        out = args.out or STREAMING_OUT
        atomic_write_text(out, json.dumps(fixture, ensure_ascii=False) + "\n")
        print(f"{out}: {len(fixture['chunks'])} chunks, partials {[c['transcript'] for c in fixture['chunks']]}")
        return 0
    log_probs = TFLiteModel(model)(audio[None])[0]
    transcript = decode_ids(vocabulary, greedy_decode(log_probs))
    fixture = {"model": pathlib.Path(args.model).name, "mode": metadata.get("info", {}).get("mode"),
               "wav": recordings, "vocabulary": vocabulary, "transcript": transcript,
               "log_probs": [[round(float(v), 5) for v in frame] for frame in log_probs]}
    out = args.out or OUT
    atomic_write_text(out, json.dumps(fixture, ensure_ascii=False) + "\n")
    print(f"{out}: {len(log_probs)} frames, transcript {transcript!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
