"""Connected-digit utterances: composed once from single-digit clips (real FSDD speakers
and espeak-ng voices), materialised to a cache directory with a manifest, then served to
``model.fit`` as padded, length-bucketed batches.

Splits: ``train`` (synthetic voices + FSDD training speakers, augmented),
``validation`` (other takes of the training speakers + other voices of the training
variants), ``test_real`` (held-out FSDD speakers) and ``test_synthetic`` (held-out
espeak variants). The test splits never touch training.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import warnings

import numpy as np

from rt_keras.data import fsdd as fsdd_lib
from rt_keras.data import synthetic
from rt_keras.data.audio import MODEL_SAMPLE_RATE, AudioError, read_wav
from rt_keras.data.augment import augment
from rt_keras.io import atomic_path, atomic_write_json

SPLITS = ("train", "validation", "test_real", "test_synthetic")
VOCABULARY = ("<blank>",) + synthetic.DIGIT_WORDS  # CTC blank is index 0; words are the tokens
MANIFEST = "manifest.json"


@dataclasses.dataclass
class Split:
    audio: list  # int16 arrays at 16 kHz
    transcripts: list  # "four one one"
    sources: list  # FSDD speaker or espeak voice name

    def __len__(self):
        return len(self.audio)


def words_to_ids(transcript: str) -> list[int]:
    return [VOCABULARY.index(word) for word in transcript.split()]


class _ClipPool:
    """Single-digit clips grouped by source (speaker or voice) and digit."""

    def __init__(self):
        self.clips: dict[str, list[list[np.ndarray]]] = {}

    def add(self, source: str, digit: int, clip: np.ndarray):
        self.clips.setdefault(source, [[] for _ in range(10)])[digit].append(clip)

    def sources(self):
        return [s for s, digits in self.clips.items() if all(digits)]


def _load_fsdd(config, skipped: list) -> tuple[_ClipPool, _ClipPool, _ClipPool]:
    """Pools for training takes, validation takes and test speakers."""
    clips = fsdd_lib.index_fsdd(config.fsdd_dir or fsdd_lib.default_fsdd_dir())
    known = set(fsdd_lib.speakers(clips))
    for field in ("train_speakers", "test_speakers"):
        missing = sorted(set(getattr(config, field)) - known)
        if missing:
            raise ValueError(f"data.{field}: speaker(s) {missing} not in FSDD; available: {sorted(known)}")
    overlap = sorted(set(config.train_speakers) & set(config.test_speakers))
    if overlap:
        raise ValueError(f"data.train_speakers and data.test_speakers share {overlap}: test speakers must be held out")
    takes = {}
    for clip in clips:
        takes[clip.speaker] = max(takes.get(clip.speaker, 0), clip.take + 1)
    train, validation, test = _ClipPool(), _ClipPool(), _ClipPool()
    for clip in clips:
        if clip.speaker in config.test_speakers:
            pool = test
        elif clip.speaker in config.train_speakers:
            pool = validation if clip.take >= takes[clip.speaker] - config.validation_takes else train
        else:
            continue
        try:
            audio = read_wav(clip.path, max_seconds=config.max_clip_seconds)
        except AudioError as error:
            skipped.append(str(error))
            warnings.warn(f"skipping {error}", stacklevel=2)
            continue
        pool.add(clip.speaker, clip.digit, (np.clip(audio, -1, 1) * 32767).astype(np.int16))
    return train, validation, test


def _synthetic_pool(voices) -> _ClipPool:
    pool = _ClipPool()
    for voice, words in zip(voices, synthetic.synthesize_digit_clips(voices)):
        for digit, clip in enumerate(words):
            if clip.size:
                pool.add(voice.name, digit, clip)
    return pool


def compose_utterance(pool: _ClipPool, source: str, rng: np.random.Generator, config) -> tuple[np.ndarray, str]:
    """1..max_digits digits of one source joined by random pauses (with a faint noise floor)."""
    count = int(rng.integers(config.min_digits, config.max_digits + 1))
    digits = rng.integers(0, 10, size=count)
    pieces = []
    for i, digit in enumerate(digits):
        options = pool.clips[source][digit]
        pause = rng.uniform(*config.pause_seconds) if i else rng.uniform(0.05, 0.25)
        pieces.append(np.zeros(int(pause * MODEL_SAMPLE_RATE), np.float32))
        pieces.append(options[int(rng.integers(len(options)))].astype(np.float32) / 32767)
    pieces.append(np.zeros(int(rng.uniform(0.05, 0.25) * MODEL_SAMPLE_RATE), np.float32))
    audio = np.concatenate(pieces)
    audio += rng.normal(scale=1e-4, size=audio.shape).astype(np.float32)
    return audio, " ".join(synthetic.DIGIT_WORDS[d] for d in digits)


def _make_split(count, pools_and_weights, rng, config, augmented, progress, name) -> Split:
    from tqdm import tqdm

    split = Split([], [], [])
    for pool, _ in pools_and_weights:
        if not pool.sources():
            raise ValueError(f"split {name!r}: no speaker or voice has usable clips of all ten digits "
                             "(check data.fsdd_dir, the speaker lists and data.validation_takes)")
    weights = np.array([w for _, w in pools_and_weights], np.float64)
    for _ in tqdm(range(count), desc=f"{name:>15}", unit="utt", disable=not progress):
        pool = pools_and_weights[int(rng.choice(len(weights), p=weights / weights.sum()))][0]
        sources = pool.sources()
        source = sources[int(rng.integers(len(sources)))]
        audio, transcript = compose_utterance(pool, source, rng, config)
        if augmented:
            audio = augment(audio, rng, config.augment)
        if audio.size / MODEL_SAMPLE_RATE > config.max_seconds:
            continue  # rare: many digits, long pauses and slow speech
        split.audio.append((np.clip(audio, -1, 1) * 32767).astype(np.int16))
        split.transcripts.append(transcript)
        split.sources.append(source)
    return split


def _save_split(directory: pathlib.Path, name: str, split: Split) -> None:
    offsets = np.cumsum([0] + [a.size for a in split.audio]).astype(np.int64)
    with atomic_path(directory / f"{name}.npz") as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, audio=np.concatenate(split.audio) if split.audio else np.zeros(0, np.int16),
                     offsets=offsets, transcripts=np.array(split.transcripts, dtype=str),
                     sources=np.array(split.sources, dtype=str))


def load_split(directory, name: str) -> Split:
    path = pathlib.Path(directory) / f"{name}.npz"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: split {name!r} not materialised; run `rt-keras data --config ...`")
    with np.load(path) as data:
        audio, offsets = data["audio"], data["offsets"]
        return Split([audio[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)],
                     [str(t) for t in data["transcripts"]], [str(s) for s in data["sources"]])


def data_directory(run_config) -> pathlib.Path:
    return pathlib.Path(run_config.data.cache_dir) / f"digits-{run_config.data_key()}"


def materialise(run_config, progress: bool = True, force: bool = False) -> pathlib.Path:
    """Generate every split once into the cache; a no-op when its manifest exists.

    Splits are written atomically and the manifest last, so an interrupted run leaves
    no split that looks complete."""
    config = run_config.data
    directory = data_directory(run_config)
    if (directory / MANIFEST).is_file() and not force:
        return directory
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(config.seed)
    skipped: list[str] = []
    fsdd_train, fsdd_validation, fsdd_test = _load_fsdd(config, skipped)
    train_voices = synthetic.sample_voices(config.synthetic_voices, held_out=False, seed=config.seed)
    validation_voices = synthetic.sample_voices(max(config.synthetic_voices // 8, 4), False, config.seed + 1)
    test_voices = synthetic.sample_voices(config.held_out_voices, held_out=True, seed=config.seed + 2)
    if progress:
        print(f"synthesising {len(train_voices) + len(validation_voices) + len(test_voices)} espeak-ng voices x 10 digits")
    synth_train, synth_validation, synth_test = (
        _synthetic_pool(v) for v in (train_voices, validation_voices, test_voices))

    fraction = config.synthetic_fraction
    plan = {
        "train": (config.train_utterances, [(synth_train, fraction), (fsdd_train, 1 - fraction)], True),
        "validation": (config.validation_utterances, [(synth_validation, 0.5), (fsdd_validation, 0.5)], False),
        "test_real": (config.test_utterances, [(fsdd_test, 1.0)], False),
        "test_synthetic": (config.test_utterances, [(synth_test, 1.0)], False),
    }
    summary = {}
    for name, (count, pools, augmented) in plan.items():
        pools = [(p, w) for p, w in pools if w > 0]
        split = _make_split(count, pools, rng, config, augmented, progress, name)
        _save_split(directory, name, split)
        summary[name] = {"utterances": len(split), "hours": sum(a.size for a in split.audio) / MODEL_SAMPLE_RATE / 3600,
                         "sources": len(set(split.sources))}
    atomic_write_json(directory / MANIFEST, {
        "data_config": dataclasses.asdict(config), "sample_rate": MODEL_SAMPLE_RATE,
        "vocabulary": list(VOCABULARY), "splits": summary,
        "fsdd_speakers": {"train": list(config.train_speakers), "test": list(config.test_speakers)},
        "held_out_variants": list(synthetic.HELD_OUT_VARIANTS),
        "skipped": {"count": len(skipped), "files": skipped},
    })
    return directory


def read_manifest(directory) -> dict:
    return json.loads((pathlib.Path(directory) / MANIFEST).read_text())
