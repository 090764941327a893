"""WAV files in, transcripts out, with a converted model (``rt-keras transcribe``).
Needs no TensorFlow: the LiteRT interpreter, the audio reader and greedy CTC decoding."""

from __future__ import annotations

import pathlib
import time

import numpy as np

from converters.files import PathError, check_input_file
from converters.flatbuffer import NotATFLiteModel, load_model
from converters.metadata import read_metadata
from converters.runner import ModelLoadError, StreamingTFLiteModel, TFLiteModel, check_loads
from rt_keras.core.contracts import float_to_pcm, greedy_decode, pcm_to_float
from rt_keras.core.vocabulary import decode_ids
from rt_keras.data.audio import AudioError, read_wav


class TranscribeError(ValueError):
    """The model cannot transcribe (not a model, or without the metadata it needs)."""


def _loadable_model(model_path) -> bytes:
    """The model's bytes once LiteRT has loaded and run it in a child process (a damaged
    file must not abort this one); TranscribeError naming the problem otherwise."""
    try:
        check_loads(check_input_file(model_path, "model"))
    except (NotATFLiteModel, ModelLoadError) as error:
        raise TranscribeError(str(error)) from None
    return pathlib.Path(model_path).read_bytes()


def transcribe_wav_files(model_path, wav_paths, num_threads: int = 1,
                         min_probability: float | None = None) -> list[dict]:
    """Greedy CTC transcripts of WAV files by a converted model (``rt-keras transcribe``),
    with ``min_probability`` as the decoding floor (None: the file's own).
    Audio goes through the training reader (any rate and channel count it accepts,
    resampled with soxr to the model's rate, PCM scaled as in training); input shorter than
    one front-end window is padded, and a fixed-length model gets its length. One dict per
    file: transcript, audio seconds and inference milliseconds, or the error that file gave."""
    data = _loadable_model(model_path)
    try:
        subgraph = load_model(data, str(model_path)).subgraphs[0]
        metadata = read_metadata(data) or {}
    except (NotATFLiteModel, ValueError) as error:
        raise TranscribeError(f"{model_path}: {error}" if str(model_path) not in str(error) else str(error)) from None
    if (metadata.get("info") or {}).get("streaming"):  # a streaming model: its last partial is the transcript
        return [_streamed(model_path, path, num_threads, min_probability) for path in wav_paths]
    vocabulary = metadata.get("vocabulary")
    if not vocabulary:
        raise TranscribeError(f"{model_path}: no vocabulary in its metadata; convert the run with `rt-keras convert`")
    rate = metadata.get("sample_rate") or 16000
    window = metadata.get("info", {}).get("frame_length", 512)
    floor = min_token_probability(metadata, model_path) if min_probability is None else min_probability
    audio_input = subgraph.tensors[subgraph.inputs[0]]
    fixed = None if audio_input.shapeSignature is not None else int(audio_input.shape[1])
    model = TFLiteModel(data, num_threads)
    results = []
    for path in wav_paths:
        try:  # a FIFO or device would block the reader: regular files only
            audio = pcm_to_float(float_to_pcm(read_wav(check_input_file(path, "WAV file"), target_rate=rate)))
        except (AudioError, PathError, OSError) as error:
            results.append({"file": str(path), "transcript": None, "error": str(error)})
            continue
        seconds = audio.size / rate
        length = fixed or max(audio.size, window)
        audio = np.pad(audio[:length], (0, length - min(audio.size, length)))
        started = time.perf_counter()
        log_probs = model(audio[None])[0]
        milliseconds = 1000 * (time.perf_counter() - started)
        words = decode_ids(vocabulary, greedy_decode(log_probs, min_probability=floor))
        results.append({"file": str(path), "transcript": words, "seconds": seconds, "latency_ms": milliseconds,
                        "error": None, "cut_to_seconds": fixed / rate if fixed and fixed < seconds * rate else None})
    return results


def min_token_probability(metadata: dict, model_path) -> float:
    """The decoding floor the file was shipped with (decode.min_token_probability; files
    converted before it was recorded have none: 0)."""
    floor = (metadata.get("info") or {}).get("min_token_probability", 0.0)
    if isinstance(floor, bool) or not isinstance(floor, (int, float)) or not 0 <= floor < 1:
        raise TranscribeError(f"{model_path}: damaged model info: min_token_probability={floor!r}, "
                              "expected a probability in [0, 1)")
    return float(floor)


def stream_wav_file(model_path, wav_path, num_threads: int = 1, min_probability: float | None = None) -> list[dict]:
    """Feed ``wav_path`` to a streaming model chunk by chunk, as a live microphone would.
    After each chunk: the audio seconds heard so far, the transcript so far (greedy CTC
    over every frame yet) and the chunk's compute milliseconds."""
    data = _loadable_model(model_path)
    try:
        model = StreamingTFLiteModel(data, num_threads)
    except ValueError as error:
        raise TranscribeError(f"{model_path}: {error}" if str(model_path) not in str(error) else str(error)) from None
    metadata = read_metadata(data) or {}
    rate = metadata.get("sample_rate") or 16000
    floor = min_token_probability(metadata, model_path) if min_probability is None else min_probability
    audio = pcm_to_float(float_to_pcm(read_wav(check_input_file(wav_path, "WAV file"), target_rate=rate)))
    frames, partials = [], []
    for index, chunk in enumerate(model.chunks(audio)):
        started = time.perf_counter()
        frames.append(model(chunk)[0])
        milliseconds = 1000 * (time.perf_counter() - started)
        heard = np.concatenate(frames)[model.lookahead_frames:]
        partials.append({"seconds": (index + 1) * model.chunk_samples / rate, "latency_ms": milliseconds,
                         "transcript": decode_ids(metadata["vocabulary"], greedy_decode(heard, min_probability=floor))})
    return partials


def _streamed(model_path, wav_path, num_threads, min_probability) -> dict:
    try:
        partials = stream_wav_file(model_path, wav_path, num_threads, min_probability)
    except (AudioError, PathError, OSError) as error:
        return {"file": str(wav_path), "transcript": None, "error": str(error)}
    return {"file": str(wav_path), "transcript": partials[-1]["transcript"], "seconds": partials[-1]["seconds"],
            "latency_ms": sum(p["latency_ms"] for p in partials), "error": None, "cut_to_seconds": None}
