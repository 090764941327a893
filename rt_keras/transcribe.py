"""WAV files in, transcripts out, with a converted model (``rt-keras transcribe``).
Needs no TensorFlow: the LiteRT interpreter, the audio reader and greedy CTC decoding."""

from __future__ import annotations

import pathlib
import time

import numpy as np

from converters.flatbuffer import NotATFLiteModel, load_model
from converters.metadata import read_metadata
from converters.runner import TFLiteModel
from rt_keras.data.audio import AudioError, read_wav
from rt_keras.task import float_to_pcm, greedy_decode, ids_to_words, pcm_to_float


class TranscribeError(ValueError):
    """The model cannot transcribe (not a model, or without the metadata it needs)."""


def transcribe_files(model_path, wav_paths, num_threads: int = 1) -> list[dict]:
    """Greedy CTC transcripts of WAV files by a converted model (``rt-keras transcribe``).
    Audio goes through the training reader (any rate and channel count it accepts,
    resampled with soxr to the model's rate, PCM scaled as in training); input shorter than
    one front-end window is padded, and a fixed-length model gets its length. One dict per
    file: transcript, audio seconds and inference milliseconds, or the error that file gave."""
    data = pathlib.Path(model_path).read_bytes()
    try:
        subgraph = load_model(data, str(model_path)).subgraphs[0]
        metadata = read_metadata(data) or {}
    except (NotATFLiteModel, ValueError) as error:
        raise TranscribeError(f"{model_path}: {error}" if str(model_path) not in str(error) else str(error)) from None
    vocabulary = metadata.get("vocabulary")
    if not vocabulary:
        raise TranscribeError(f"{model_path}: no vocabulary in its metadata; convert the run with `rt-keras convert`")
    rate = metadata.get("sample_rate") or 16000
    window = metadata.get("info", {}).get("frame_length", 512)
    audio_input = subgraph.tensors[subgraph.inputs[0]]
    fixed = None if audio_input.shapeSignature is not None else int(audio_input.shape[1])
    model = TFLiteModel(data, num_threads)
    results = []
    for path in wav_paths:
        try:
            audio = pcm_to_float(float_to_pcm(read_wav(path, target_rate=rate)))  # as the splits store it
        except (AudioError, OSError) as error:
            results.append({"file": str(path), "transcript": None, "error": str(error)})
            continue
        seconds = audio.size / rate
        length = fixed or max(audio.size, window)
        audio = np.pad(audio[:length], (0, length - min(audio.size, length)))
        started = time.perf_counter()
        log_probs = model(audio[None])[0]
        milliseconds = 1000 * (time.perf_counter() - started)
        words = ids_to_words(greedy_decode(log_probs), vocabulary)
        results.append({"file": str(path), "transcript": words, "seconds": seconds, "latency_ms": milliseconds,
                        "error": None, "cut_to_seconds": fixed / rate if fixed and fixed < seconds * rate else None})
    return results
