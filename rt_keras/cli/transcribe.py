"""`rt-keras transcribe`: WAV files -> transcripts with a .tflite (no TensorFlow)."""

from __future__ import annotations

import json
import sys

from rt_keras.cli.arguments import int_at_least, probability


def register(subparsers) -> None:
    p = subparsers.add_parser("transcribe", help="transcribe WAV files with a converted .tflite model",
                       description="Greedy CTC transcript of each WAV file (any rate and channel count the "
                                   "training reader accepts; resampled to the model's rate) by MODEL.tflite, run by "
                                   "the LiteRT interpreter, with the audio length and inference time.")
    p.add_argument("model", metavar="MODEL.tflite", help="a model written by `rt-keras convert` (with metadata)")
    p.add_argument("wavs", nargs="+", metavar="FILE.wav")
    p.add_argument("--threads", type=int_at_least(1, 64), default=1, help="interpreter threads (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="one object per file: transcript, seconds, latency_ms, error")
    p.add_argument("--min-token-probability", type=probability, metavar="P",
                   help="drop a word whose probability stays below P on every frame (fewer words from noise, "
                        "some quiet words lost; default: the floor the model was converted with, "
                        "decode.min_token_probability in its metadata)")
    p.add_argument("--stream", action="store_true",
                   help="feed a streaming model (convert --streaming) chunk by chunk and print the transcript "
                        "after each chunk, with the audio time it had heard and the chunk's compute time")
    p.set_defaults(run=run)


def run(args) -> int:
    from converters.files import PathError
    from rt_keras.data.audio import AudioError
    from rt_keras.export.transcribe import TranscribeError, stream_wav_file, transcribe_wav_files

    if args.stream:
        status = 0
        for wav in args.wavs:
            try:
                partials = stream_wav_file(args.model, wav, args.threads, args.min_token_probability)
            except (TranscribeError, AudioError, PathError, OSError) as error:
                print(f"rt-keras transcribe: {error}", file=sys.stderr)
                status = 2 if isinstance(error, TranscribeError) else 1
                continue
            if args.json:
                print(json.dumps({"file": str(wav), "partials": partials}, indent=2))
                continue
            print(f"{wav}:")
            for partial in partials:
                print(f"  {partial['seconds']:6.2f} s  {partial['latency_ms']:6.1f} ms  {partial['transcript']}")
        return status
    try:
        results = transcribe_wav_files(args.model, args.wavs, args.threads, args.min_token_probability)
    except (TranscribeError, OSError) as error:
        print(f"rt-keras transcribe: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(results, indent=2))
    for result in results:
        if result["error"]:
            print(f"rt-keras transcribe: {result['error']}", file=sys.stderr)
        elif not args.json:
            cut = f", cut to the model's {result['cut_to_seconds']:.2f} s" if result["cut_to_seconds"] else ""
            print(f"{result['file']}: {result['transcript'] or '(nothing recognised)'}   "
                  f"({result['seconds']:.2f} s of audio, {result['latency_ms']:.1f} ms{cut})")
    return 1 if any(r["error"] for r in results) else 0
