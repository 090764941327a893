"""The connected-digit task: utterances composed from single-digit clips with random
pauses, every split a pure function of the data config.

Voices: real FSDD speakers; pseudo-speakers made from them by vocal-tract and pitch
perturbation (``rt_keras.data.pseudo_speakers``: towards female and child voices); espeak-ng
voices; flite/festival voices built on recordings of real people, and their perturbed
variants (``rt_keras.data.tts_voices``).

Splits: ``train`` (all of the above for the training speakers and voices, augmented);
``validation`` (the training speakers' last takes, their pseudo-speakers, other
espeak-ng voices of the training variants); and the test splits, which never touch
training: ``test_real`` (every clip of the held-out FSDD speakers), ``test_real_perturbed``
(the same speakers with fixed female-, child- and deeper-voice perturbations),
``test_synthetic`` (held-out espeak-ng variants) and ``test_tts_unseen`` (held-out
flite/festival voices, by default the woman ``slt`` in both engines).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

from rt_keras.core.contracts import DIGIT_WORDS, float_to_pcm, pcm_to_float
from rt_keras.core.encoder_config import ConfigError
from rt_keras.data import espeak_voices, pseudo_speakers, tts_voices
from rt_keras.data import fsdd as fsdd_lib
from rt_keras.data.audio import MODEL_SAMPLE_RATE, AudioError, read_wav
from rt_keras.data.augment import augment
from rt_keras.data.storage import Split


class _ClipPool:
    """Single-digit clips grouped by source (speaker or voice) and digit, with a
    description of each source (engine, voice, perturbation) for the manifest."""

    def __init__(self):
        self.clips: dict[str, list[list[np.ndarray]]] = {}
        self.info: dict[str, dict] = {}
        self._decks: dict[str, list] = {}
        self._rng = None

    def add(self, source: str, digit: int, clip: np.ndarray, info: dict):
        self.clips.setdefault(source, [[] for _ in range(10)])[digit].append(clip)
        self.info[source] = info

    def sources(self):
        return [s for s, digits in self.clips.items() if all(digits)]

    def shuffle_decks(self, rng: np.random.Generator):
        self._rng, self._decks = rng, {}

    def deal(self, source: str) -> tuple[int, np.ndarray]:
        """The next (digit, clip) of ``source``'s shuffled deck of all its clips."""
        deck = self._decks.get(source)
        if not deck:
            deck = [(d, c) for d, options in enumerate(self.clips[source]) for c in options]
            deck = [deck[i] for i in self._rng.permutation(len(deck))]
            self._decks[source] = deck
        return deck.pop()


def _fsdd_clips(config, skipped: list) -> tuple[_ClipPool, _ClipPool, _ClipPool]:
    """Pools for training takes, validation takes and test speakers."""
    clips = fsdd_lib.index_fsdd(config.fsdd_dir or fsdd_lib.default_fsdd_dir())
    known = set(fsdd_lib.speakers(clips))
    for field in ("train_speakers", "test_speakers"):
        missing = sorted(set(getattr(config, field)) - known)
        if missing:
            raise ConfigError(f"data.{field}: speaker(s) {missing} not in FSDD; available: {sorted(known)}")
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
        pool.add(clip.speaker, clip.digit, float_to_pcm(audio), {"engine": "fsdd", "voice": clip.speaker})
    return train, validation, test


def _perturbed_pool(pool: _ClipPool, perturbations_of, takes: int | None, rng: np.random.Generator,
                    progress: bool, desc: str) -> _ClipPool:
    """Pseudo-speakers of every source of ``pool``: ``perturbations_of(source, median_f0)``
    gives the source's perturbations; each uses ``takes`` random clips per digit (all when None)."""
    from tqdm import tqdm

    out = _ClipPool()
    jobs = []
    for source in pool.sources():
        digits = pool.clips[source]
        base = np.nanmedian([pseudo_speakers.median_pitch(pcm_to_float(d[0])) for d in digits])
        for perturbation in perturbations_of(source, float(base) if np.isfinite(base) else 120.0):
            name = f"{source}~{perturbation.tag}"
            info = {**pool.info[source], "formant_ratio": perturbation.formant_ratio, "pitch_hz": perturbation.pitch_hz}
            for digit, options in enumerate(digits):
                picks = range(len(options)) if takes is None or takes >= len(options) else \
                    sorted(rng.choice(len(options), size=takes, replace=False))
                jobs += [(name, info, digit, options[i], perturbation) for i in picks]
    for name, info, digit, clip, perturbation in tqdm(jobs, desc=f"{desc:>15}", unit="clip", disable=not progress):
        changed = pseudo_speakers.change_voice(pcm_to_float(clip), perturbation)
        out.add(name, digit, float_to_pcm(changed), info)
    return out


def _espeak_pool(voice_list) -> _ClipPool:
    pool = _ClipPool()
    for voice, words in zip(voice_list, espeak_voices.synthesize_clips(voice_list)):
        for digit, clip in enumerate(words):
            if clip.size:
                pool.add(voice.name, digit, clip, {"engine": "espeak-ng", "voice": voice.name})
    return pool


def _tts_pool(names, stretches) -> _ClipPool:
    pool = _ClipPool()
    for name in names:
        for stretch in stretches:
            source = name if stretch == 1.0 else f"{name}@x{stretch:g}"
            engine, voice = tts_voices.parse_voice(name)
            for digit, clip in enumerate(tts_voices.synthesize(name, DIGIT_WORDS, stretch)):
                pool.add(source, digit, float_to_pcm(espeak_voices.trim(clip)),
                         {"engine": engine, "voice": voice, "duration_stretch": stretch})
    return pool


def compose_utterance(pool: _ClipPool, source: str, rng: np.random.Generator, config) -> tuple[np.ndarray, str]:
    """1..max_digits clips of one source (dealt from its shuffled deck, so every clip is
    used before any is used twice) joined by random pauses with a faint noise floor."""
    count = int(rng.integers(config.min_digits, config.max_digits + 1))
    digits, pieces = [], []
    for i in range(count):
        digit, clip = pool.deal(source)
        pause = rng.uniform(*config.pause_seconds) if i else rng.uniform(0.05, 0.25)
        pieces.append(np.zeros(int(pause * MODEL_SAMPLE_RATE), np.float32))
        pieces.append(pcm_to_float(clip))
        digits.append(digit)
    pieces.append(np.zeros(int(rng.uniform(0.05, 0.25) * MODEL_SAMPLE_RATE), np.float32))
    audio = np.concatenate(pieces)
    audio += rng.normal(scale=1e-4, size=audio.shape).astype(np.float32)
    return audio, " ".join(DIGIT_WORDS[d] for d in digits)


def _make_split(count, pools_and_weights, seed_key, config, augmented, progress, name) -> Split:
    """``count`` utterances; utterance i draws from its own generator (seed, split, i), so
    no split depends on another's contents and the same config gives the same bytes."""
    from tqdm import tqdm

    split = Split([], [], [])
    for pool, _ in pools_and_weights:
        if not pool.sources():
            raise ValueError(f"split {name!r}: no speaker or voice has usable clips of all ten digits "
                             "(check data.fsdd_dir, the speaker lists and data.validation_takes)")
        pool.shuffle_decks(np.random.default_rng([*seed_key, 1 << 30]))
    weights = np.array([w for _, w in pools_and_weights], np.float64)
    for index in tqdm(range(count), desc=f"{name:>15}", unit="utt", disable=not progress):
        rng = np.random.default_rng([*seed_key, index])
        pool = pools_and_weights[int(rng.choice(len(weights), p=weights / weights.sum()))][0]
        sources = pool.sources()
        source = sources[int(rng.integers(len(sources)))]
        audio, transcript = compose_utterance(pool, source, rng, config)
        if augmented:
            audio = augment(audio, rng, config.augment)
        if audio.size / MODEL_SAMPLE_RATE > config.max_seconds:
            continue  # rare: many digits, long pauses and slow speech
        split.audio.append(float_to_pcm(audio))
        split.transcripts.append(transcript)
        split.sources.append(source)
    return split


def _build_pools(config, progress: bool, skipped: list) -> dict[str, _ClipPool]:
    """Every clip pool of the digit task, each a pure function of the data config."""
    seed = config.seed
    fsdd_train, fsdd_validation, fsdd_test = _fsdd_clips(config, skipped)
    for name in (*config.tts_voices, *config.tts_test_voices):
        tts_voices.check_voice(name)
    held_out = sorted(set(config.tts_voices) & set(config.tts_test_voices))
    if held_out:
        raise ValueError(f"data.tts_voices and data.tts_test_voices share {held_out}: test voices must be held out")

    def perturbations(count, key):
        def of(source, median_f0):
            rng = np.random.default_rng([seed, key, *source.encode()])
            return pseudo_speakers.sample_perturbations(count, rng, config.formant_range, config.pitch_range, median_f0)
        return of

    train_voices = espeak_voices.sample_voices(config.synthetic_voices, held_out=False, seed=seed)
    validation_voices = espeak_voices.sample_voices(max(config.synthetic_voices // 8, 4), False, seed + 1)
    test_voices = espeak_voices.sample_voices(config.held_out_voices, held_out=True, seed=seed + 2)
    logging.getLogger("rt_keras").info(
        "synthesising %d espeak-ng voices and %d flite/festival voices x 10 digits",
        len(train_voices) + len(validation_voices) + len(test_voices),
        len(config.tts_voices) + len(config.tts_test_voices))
    tts_train = _tts_pool(config.tts_voices, config.tts_stretches)
    test_perturbations = [pseudo_speakers.Perturbation(float(r), float(p)) for r, p in config.test_perturbations]
    return {
        "fsdd_train": fsdd_train,
        "fsdd_validation": fsdd_validation,
        "fsdd_test": fsdd_test,
        "fsdd_train_perturbed": _perturbed_pool(
            fsdd_train,
            perturbations(config.pseudo_speakers, 1),
            config.perturbed_takes,
            np.random.default_rng([seed, 11]),
            progress,
            "pseudo-speakers",
        ),
        "fsdd_validation_perturbed": _perturbed_pool(
            fsdd_validation, perturbations(2, 2), None, np.random.default_rng([seed, 12]), progress, "(validation)"
        ),
        "fsdd_test_perturbed": _perturbed_pool(
            fsdd_test,
            lambda source, f0: test_perturbations,
            None,
            np.random.default_rng([seed, 13]),
            progress,
            "(test_real)",
        ),
        "espeak_train": _espeak_pool(train_voices),
        "espeak_validation": _espeak_pool(validation_voices),
        "espeak_test": _espeak_pool(test_voices),
        "tts_train": tts_train,
        "tts_train_perturbed": _perturbed_pool(
            tts_train,
            perturbations(config.tts_variants, 3),
            None,
            np.random.default_rng([seed, 14]),
            progress,
            "TTS variants",
        ),
        "tts_test": _tts_pool(config.tts_test_voices, [1.0]),
    }


def digit_splits(config, progress: bool, skipped: list):
    """(name, transcripts, utterances, {source: description}) of the digit task, one split
    at a time; utterances are (int16 audio, transcript, source)."""
    pools = _build_pools(config, progress, skipped)  # refuses unknown speakers before anything is written
    mix = config.mix
    plan = {  # name: (utterances, [(pool, weight)], augmented)
        "train": (
            config.train_utterances,
            [
                (pools["espeak_train"], mix["espeak"]),
                (pools["tts_train"], mix["tts"] / 2),
                (pools["tts_train_perturbed"], mix["tts"] / 2),
                (pools["fsdd_train"], mix["fsdd"]),
                (pools["fsdd_train_perturbed"], mix["fsdd_perturbed"]),
            ],
            True,
        ),
        "validation": (
            config.validation_utterances,
            [(pools["espeak_validation"], 1), (pools["fsdd_validation"], 1), (pools["fsdd_validation_perturbed"], 1)],
            False,
        ),
        "test_real": (config.test_real_utterances, [(pools["fsdd_test"], 1)], False),
        "test_real_perturbed": (config.test_utterances, [(pools["fsdd_test_perturbed"], 1)], False),
        "test_synthetic": (config.test_utterances, [(pools["espeak_test"], 1)], False),
        "test_tts_unseen": (config.test_utterances, [(pools["tts_test"], 1)], False),
    }
    for index, (name, (count, weighted, augmented)) in enumerate(plan.items()):
        weighted = [(p, w) for p, w in weighted if w > 0]
        split = _make_split(count, weighted, (config.seed, index), config, augmented, progress, name)
        used = set(split.sources)
        yield (
            name,
            split.transcripts,
            zip(split.audio, split.transcripts, split.sources),
            {s: pool.info[s] for pool, _ in weighted for s in pool.sources() if s in used},
        )


def describe(config) -> dict:
    """What the data manifest records of the digit task's speakers and voices."""
    return {
        "fsdd_speakers": {"train": list(config.train_speakers), "test": list(config.test_speakers)},
        "held_out_variants": list(espeak_voices.HELD_OUT_VARIANTS),
        "tts_voices": {"train": list(config.tts_voices), "test": list(config.tts_test_voices)},
    }
