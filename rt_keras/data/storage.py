"""Materialised splits: one directory per data config with the splits (.npz, or TFRecord
shards streamed in training), the vocabulary and ``manifest.json`` (sources, skipped
rows, a hash of every split). Writing them is ``rt_keras.data.materialise``."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib
import warnings

import numpy as np

from converters.files import atomic_path
from rt_keras.core import vocabulary as vocabulary_lib
from rt_keras.core.contracts import ctc_frames_needed, feature_frames, subsampled_length
from rt_keras.core.splits import is_noise_source, keeps_every_utterance
from rt_keras.core.vocabulary import Vocabulary, VocabularyError
from rt_keras.data import shards
from rt_keras.data.audio import MODEL_SAMPLE_RATE

MANIFEST = "manifest.json"


@dataclasses.dataclass
class Split:
    audio: list  # int16 arrays at 16 kHz
    transcripts: list  # normalised, e.g. "four one one"
    sources: list  # speaker or voice name
    vocabulary: Vocabulary = vocabulary_lib.DIGITS  # what the model of these data predicts

    def __len__(self):
        return len(self.audio)

    def labels(self, index: int) -> list[int]:
        return encode_labels(self.vocabulary, self.transcripts[index], self.sources[index])


def encode_labels(vocabulary: Vocabulary, text: str, source: str) -> list[int]:
    """Token ids of a transcript; none for an utterance of noise alone (an empty transcript
    from a noise source: data.augment.noise_only_probability), which trains CTC to emit
    nothing. Any other empty transcript is refused (VocabularyError), a manifest's too."""
    if not text and is_noise_source(source):
        return []
    return vocabulary.encode(text)


def save_split(directory: pathlib.Path, name: str, split: Split) -> None:
    offsets = np.cumsum([0] + [a.size for a in split.audio]).astype(np.int64)
    with atomic_path(directory / f"{name}.npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, audio=np.concatenate(split.audio) if split.audio else np.zeros(0, np.int16),
                     offsets=offsets, transcripts=np.array(split.transcripts, dtype=str),
                     sources=np.array(split.sources, dtype=str))


def load_split(directory, name: str) -> Split:
    """Split ``name`` in memory, from either storage (``data.storage: shards`` streams the
    training split in training instead: ``rt_keras.data.batches.training_split``)."""
    path = pathlib.Path(directory) / f"{name}.npz"
    if not path.is_file() and shards.shard_paths(directory, name):
        split = Split([], [], [], Vocabulary.load(directory))
        for audio, transcript, source in shards.read_utterances(directory, name):
            split.audio.append(audio)
            split.transcripts.append(transcript)
            split.sources.append(source)
        return split
    if not path.is_file():
        raise FileNotFoundError(f"{path}: split {name!r} not materialised; run `rt-keras data --config ...`")
    with np.load(path) as data:
        audio, offsets = data["audio"], data["offsets"]
        return Split([audio[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)],
                     [str(t) for t in data["transcripts"]], [str(s) for s in data["sources"]],
                     Vocabulary.load(directory))


def load_splits(directory, names) -> Split:
    """Splits ``names`` pooled into one (the checkpoint-selection set of ``train.select_on``)."""
    parts = [load_split(directory, name) for name in names]
    return Split([a for p in parts for a in p.audio], [t for p in parts for t in p.transcripts],
                 [s for p in parts for s in p.sources], parts[0].vocabulary)


def data_directory(run_config) -> pathlib.Path:
    return pathlib.Path(run_config.data.cache_dir) / f"{run_config.data.source}-{run_config.data_key()}"


def sample_audio(split, count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` random utterances (int16) of a Split, or of a ``shards.ShardedSplit``
    without loading it whole (one streamed pass, reservoir sampling)."""
    rng = np.random.default_rng(seed)
    if isinstance(split, Split):
        return [split.audio[i] for i in rng.choice(len(split), size=min(count, len(split)), replace=False)]
    reservoir = []
    for seen, (audio, _, _) in enumerate(shards.read_utterances(split.directory, split.name)):
        if seen < count:
            reservoir.append(audio)
        elif (slot := int(rng.integers(seen + 1))) < count:
            reservoir[slot] = audio
    return reservoir


def split_size(directory, name: str) -> int:
    return int(read_manifest(directory)["splits"][name]["utterances"])


def evaluation_splits(directory) -> list[str]:
    """The test splits of materialised data, in the order they were written."""
    return [name for name in read_manifest(directory)["splits"] if name.startswith("test")]


def _hash_utterance(digest, audio: np.ndarray, transcript: str, source: str) -> None:
    """The split's sha256 covers each utterance's samples, transcript and source, in order
    (the same for both storages)."""
    digest.update(audio.tobytes())
    digest.update(f"|{transcript}|{source}|".encode())


def _labels(audio, text: str, source: str, vocabulary: Vocabulary, frontend, name: str):
    """(token ids, problem): the problem is why training or validation cannot use the
    utterance — a transcript the vocabulary cannot spell, or audio too short for CTC to
    emit its tokens at one frame per 40 ms. Test splits keep every utterance (the model is
    scored on what it cannot spell too)."""

    try:
        labels = encode_labels(vocabulary, text, source)
    except VocabularyError as error:
        return [], str(error)
    # the audio's own frames: no token can be emitted in the model's leading silence
    needed, frames = ctc_frames_needed(labels), subsampled_length(feature_frames(audio.size, frontend))
    if needed > frames and not keeps_every_utterance(name):
        return labels, (f"{source} {text!r}: {needed} CTC steps needed, the audio gives {frames} frames "
                        f"(spoken too fast for a {vocabulary.kind} vocabulary)")
    return labels, None


def write_split(directory, name: str, utterances, vocabulary: Vocabulary, run_config, skipped: list) -> dict:
    """Write the utterances of split ``name`` (one at a time into shards, or as one .npz);
    training and validation skip what they cannot learn from (counted, named). Returns
    the split's summary for the data manifest."""
    config = run_config.data
    sharded = config.storage == "shards"
    writer = shards.ShardWriter(directory, name, config.shard_utterances) if sharded else None
    kept = Split([], [], [], vocabulary)
    digest, count, samples, voices, problems, unspellable = hashlib.sha256(), 0, 0, set(), [], 0
    for audio, text, source in utterances:
        labels, problem = _labels(audio, text, source, vocabulary, run_config.frontend, name)
        if problem and not keeps_every_utterance(name):
            problems.append(problem)
            continue
        unspellable += not labels and not is_noise_source(source)  # noise alone has no words to spell
        _hash_utterance(digest, audio, text, source)
        count, samples = count + 1, samples + audio.size
        voices.add(source)
        if sharded:
            writer.write(audio, text, source, labels)
        else:
            kept.audio.append(audio)
            kept.transcripts.append(text)
            kept.sources.append(source)
    if problems:
        skipped += [f"{name}: {problem}" for problem in problems]
        warnings.warn(f"skipping {len(problems)} {name} utterance(s) the model cannot learn from, "
                      f"e.g. {problems[0]}", stacklevel=2)
    extra = {"shards": writer.close()} if sharded else {}
    if not sharded:
        save_split(directory, name, kept)
    noises = {source for source in voices if is_noise_source(source)}  # noise alone is no speaker
    summary = {"utterances": count, "hours": samples / MODEL_SAMPLE_RATE / 3600, "sources": len(voices - noises),
               "sha256": digest.hexdigest(), **extra}
    if noises:
        summary["noise_kinds"] = len(noises)
    if unspellable:
        summary["unspellable"] = unspellable
    return summary


def read_manifest(directory) -> dict:
    return json.loads((pathlib.Path(directory) / MANIFEST).read_text())
