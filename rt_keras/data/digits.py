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

from rt_keras.core import run_config as rc
from rt_keras.core.contracts import DIGIT_WORDS, float_to_pcm, pcm_to_float
from rt_keras.core.encoder_config import ConfigError
from rt_keras.core.splits import (
    DEV_LEVELS,
    DEV_NOISE_ONLY,
    DEV_SHIFTED,
    NOISE_ONLY,
    is_noise_source,
    noise_source,
    noisy_test_split,
)
from rt_keras.data import augment as augment_lib
from rt_keras.data import channels, espeak_voices, noises, pseudo_speakers, tts_voices
from rt_keras.data import fsdd as fsdd_lib
from rt_keras.data.audio import MODEL_SAMPLE_RATE, AudioError, read_wav
from rt_keras.data.augment import augment
from rt_keras.data.storage import Split

EVALUATION_SHAPE = rc.AugmentConfig()  # its defaults: even word levels, 0.05-0.25 s edges, none tight
NOISE_FLOOR = 1e-4  # under every composed utterance


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

    def copy(self) -> "_ClipPool":
        pool = _ClipPool()
        pool.clips = {source: [list(clips) for clips in digits] for source, digits in self.clips.items()}
        pool.info = dict(self.info)
        return pool

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


def _tts_pool(names, stretches, into: _ClipPool | None = None) -> _ClipPool:
    pool = into if into is not None else _ClipPool()
    for name in names:
        for stretch in stretches:
            source = name if stretch == 1.0 else f"{name}@x{stretch:g}"
            engine, voice = tts_voices.parse_voice(name)
            for digit, clip in enumerate(tts_voices.synthesize(name, DIGIT_WORDS, stretch)):
                pool.add(source, digit, float_to_pcm(espeak_voices.trim(clip)),
                         {"engine": engine, "voice": voice, "duration_stretch": stretch})
    return pool


def compose_utterance(pool: _ClipPool, source: str, rng: np.random.Generator, config,
                      long_pauses: tuple = (0.0, None), word_gain_db=(0.0, 0.0),
                      edge_pauses=tuple(EVALUATION_SHAPE.edge_pause_seconds),
                      tight_edges: float = 0.0) -> tuple[np.ndarray, str]:
    """1..max_digits clips of one source (dealt from its shuffled deck, so every clip is
    used before any is used twice) joined by random pauses with a faint noise floor.
    ``long_pauses`` = (probability, [low, high] seconds): each pause, the ones before the
    first and after the last digit too, is that long instead with that probability (the
    generator draws nothing for it when the probability is 0). ``word_gain_db`` = [low, high]:
    each clip scaled by its own gain in that range (no draw when both are 0). ``edge_pauses`` =
    [low, high] seconds of the pauses before the first digit and after the last; each is 0 with
    probability ``tight_edges`` (no draw when it is 0)."""
    probability, long_range = long_pauses
    varied_levels = tuple(word_gain_db) != (0.0, 0.0)

    def pause(seconds: float) -> np.ndarray:
        if probability > 0 and rng.random() < probability:
            seconds = rng.uniform(*long_range)
        return np.zeros(int(seconds * MODEL_SAMPLE_RATE), np.float32)

    def edge() -> float:
        return 0.0 if tight_edges > 0 and rng.random() < tight_edges else rng.uniform(*edge_pauses)

    count = int(rng.integers(config.min_digits, config.max_digits + 1))
    digits, pieces = [], []
    for i in range(count):
        digit, clip = pool.deal(source)
        pieces.append(pause(rng.uniform(*config.pause_seconds) if i else edge()))
        word = pcm_to_float(clip)
        pieces.append(word * np.float32(10 ** (rng.uniform(*word_gain_db) / 20)) if varied_levels else word)
        digits.append(digit)
    pieces.append(pause(edge()))
    audio = np.concatenate(pieces)
    audio += rng.normal(scale=NOISE_FLOOR, size=audio.shape).astype(np.float32)
    return audio, " ".join(DIGIT_WORDS[d] for d in digits)


def _make_split(count, pools_and_weights, seed_key, config, augmented, progress, name, condition=None,
                babble=None, rooms=None) -> Split:
    """``count`` utterances; utterance i draws from its own generator (seed, split, i), so
    no split depends on another's contents and the same config gives the same bytes.
    ``condition`` = (function(audio, rng), key): applied last with its own generator (key, i),
    so a split with the seed key of another has the other's utterances under the condition."""
    from tqdm import tqdm

    split = Split([], [], [])
    for pool, _ in pools_and_weights:
        if not pool.sources():
            raise ValueError(f"split {name!r}: no speaker or voice has usable clips of all ten digits "
                             "(check data.fsdd_dir, the speaker lists and data.validation_takes)")
        pool.shuffle_decks(np.random.default_rng([*seed_key, 1 << 30]))
    weights = np.array([w for _, w in pools_and_weights], np.float64)
    noise_only = config.augment.noise_only_probability if augmented else 0.0
    for index in tqdm(range(count), desc=f"{name:>15}", unit="utt", disable=not progress):
        rng = np.random.default_rng([*seed_key, index])
        if noise_only > 0 and rng.random() < noise_only:  # at 0 the generator draws nothing more
            audio, kind = augment_lib.noise_only(rng, config.augment)
            transcript, source = "", noise_source(kind)
        else:
            pool = pools_and_weights[int(rng.choice(len(weights), p=weights / weights.sum()))][0]
            sources = pool.sources()
            source = sources[int(rng.integers(len(sources)))]
            pauses = (config.augment.long_pause_probability, config.augment.long_pause_seconds) if augmented \
                else (0, 0)
            shape = config.augment if augmented else EVALUATION_SHAPE
            audio, transcript = compose_utterance(pool, source, rng, config, pauses, shape.word_gain_db,
                                                  shape.edge_pause_seconds, shape.tight_edge_probability)
            if augmented:
                audio = augment(audio, rng, config.augment, babble, rooms)
            if condition is not None:
                audio = condition[0](audio, np.random.default_rng([*condition[1], index]))
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
    for name in (*config.tts_voices, *config.neural_tts_voices, *config.tts_test_voices):
        tts_voices.check_voice(name)
    held_out = sorted(set(config.tts_voices + config.neural_tts_voices) & set(config.tts_test_voices))
    if held_out:
        raise ValueError(f"data.tts_voices or data.neural_tts_voices and data.tts_test_voices share {held_out}: "
                         "test voices must be held out")

    def perturbations(count, key):
        def of(source, median_f0):
            rng = np.random.default_rng([seed, key, *source.encode()])
            return pseudo_speakers.sample_perturbations(count, rng, config.formant_range, config.pitch_range, median_f0)
        return of

    train_voices = espeak_voices.sample_voices(config.synthetic_voices, held_out=False, seed=seed)
    validation_voices = espeak_voices.sample_voices(max(config.synthetic_voices // 8, 4), False, seed + 1)
    test_voices = espeak_voices.sample_voices(config.held_out_voices, held_out=True, seed=seed + 2)
    logging.getLogger("rt_keras").info(
        "synthesising %d espeak-ng voices and %d other TTS voices x 10 digits",
        len(train_voices) + len(validation_voices) + len(test_voices),
        len(config.tts_voices) + len(config.neural_tts_voices) + len(config.tts_test_voices))
    tts_classic = _tts_pool(config.tts_voices, config.tts_stretches)
    tts_train = _tts_pool(config.neural_tts_voices, config.tts_stretches, into=tts_classic.copy())
    test_perturbations = [pseudo_speakers.Perturbation(float(r), float(p)) for r, p in config.test_perturbations]
    dev = {}
    if config.dev_splits:  # held-out pseudo-speakers of the validation takes and the TTS voices, other espeak-ng voices
        dev = {
            "dev_pseudo": _renamed(_perturbed_pool(fsdd_validation, perturbations(4, 21), None,
                                                   np.random.default_rng([seed, 21]), progress, "(dev)"), "~dev"),
            "dev_espeak": _espeak_pool(espeak_voices.sample_voices(max(config.synthetic_voices // 8, 4), False,
                                                                   seed + 21)),
            "dev_tts": _renamed(_perturbed_pool(tts_classic, perturbations(2, 22), None,
                                                np.random.default_rng([seed, 22]), progress, "(dev TTS)"), "~dev"),
        }
    return {
        **dev,
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
    keys = {name: (config.seed, index) for index, name in enumerate(plan)}
    extras = {"train": {}}
    if "babble" in config.augment.noise_kinds:
        talkers = [pools[k] for k in ("espeak_train", "tts_train", "fsdd_train", "fsdd_train_perturbed")]
        extras["train"]["babble"] = babble_clips(talkers, (config.seed, 5002))
    if config.augment.room_probability > 0:
        extras["train"]["rooms"] = augment_lib.training_rooms(config.augment, config.seed)
    plan, keys, extras = _robustness_plan(config, pools, plan, keys, extras)
    for name, (count, weighted, augmented) in plan.items():
        weighted = [(p, w) for p, w in weighted if w > 0]
        split = _make_split(count, weighted, keys[name], config, augmented, progress, name, **extras.get(name, {}))
        used = set(split.sources)
        yield (
            name,
            split.transcripts,
            zip(split.audio, split.transcripts, split.sources),
            {**{s: pool.info[s] for pool, _ in weighted for s in pool.sources() if s in used},
             **_noise_descriptions(used)},
        )
    if config.noise_only_utterances:
        yield noise_only_split(config, pools)
        if config.dev_shifted:
            yield dev_noise_only_split(config, pools)


# ------------------------------------------------------------------ robustness splits
DEV_LONG_PAUSE_SECONDS = (0.5, 2.0)  # dev_noisy: noise-only stretches before and after the digits
DEV_SNR_DB = (0.0, 20.0)


def babble_clips(pools, key, count: int = 400) -> list:
    """``count`` single-digit clips (float) drawn with generator ``key`` from the sources of
    ``pools``: the talkers of babble noise."""
    rng = np.random.default_rng(list(key))
    clips = [c for pool in pools for source in pool.sources() for options in pool.clips[source] for c in options]
    return [pcm_to_float(clips[i]) for i in sorted(rng.choice(len(clips), size=min(count, len(clips)), replace=False))]


DEV_TALKERS_KEY = 6102  # dev_shifted's and dev_noise_only's television talkers


def dev_talkers(pools, key) -> list:
    """Clips of the validation voices (never trained on, never tested on): the talkers of
    development noise."""
    return babble_clips([pools["espeak_validation"], pools["fsdd_validation"]], key)


def pad_silence(x: np.ndarray, before: float, after: float) -> np.ndarray:
    """``before`` and ``after`` seconds of silence around ``x`` (noise added later fills them)."""
    return np.concatenate([np.zeros(int(before * MODEL_SAMPLE_RATE), np.float32), np.asarray(x, np.float32),
                           np.zeros(int(after * MODEL_SAMPLE_RATE), np.float32)])


def _renamed(pool: _ClipPool, suffix: str) -> _ClipPool:
    out = _ClipPool()
    for source, digits in pool.clips.items():
        out.clips[source + suffix] = digits
        out.info[source + suffix] = pool.info[source]
    return out


DEV_NOISY_KEY = 6004  # the generator key of dev_noisy's condition (benchmarks/noisy_by_kind.py)


def _dev_condition(babble, rooms):
    """dev_noisy: noise-only stretches around the digits (half the utterances), one of training's
    noise kinds at 0-20 dB, and 30% each an image-method room, a microphone EQ and a training codec;
    every draw from development's own generators."""
    def condition(audio, rng):
        if rng.random() < 0.5:
            audio = pad_silence(audio, *rng.uniform(*DEV_LONG_PAUSE_SECONDS, size=2))
        if rng.random() < 0.3:
            audio = channels.convolve(audio, rooms[int(rng.integers(len(rooms)))][0])
        if rng.random() < 0.3:
            audio = channels.random_eq(audio, rng)
        audio = augment_lib.add_noise_of(audio, rc.TRAIN_NOISE_KINDS, rng.uniform(*DEV_SNR_DB), rng, babble)
        if rng.random() < 0.3:
            audio = channels.CODECS[rc.TRAIN_CODECS[int(rng.integers(len(rc.TRAIN_CODECS)))]](audio)
        return augment_lib.below_full_scale(audio)
    return condition


def _dev_shifted_condition(talkers, rooms):
    """dev_shifted: every condition one that neither training nor testing uses — rain or a
    television at 0-20 dB, a car cabin or closet (RT60 0.08-0.13 s) for 40% of the utterances,
    IMA ADPCM or Ogg Vorbis for 40% — so that it asks how a model does under conditions it was
    never trained on, as the held-out test splits do. Unlike dev_noisy it adds no noise-only
    stretches: words emitted from noise are dev_noise_only's measure, so that they do not
    swamp the errors on the speech (they do on dev_noisy: docs/results.md, "A development split")."""
    def condition(audio, rng):
        if rng.random() < 0.4:
            audio = channels.convolve(audio, rooms[int(rng.integers(len(rooms)))][0])
        audio = augment_lib.add_noise_of(audio, rc.DEV_NOISE_KINDS, rng.uniform(*DEV_SNR_DB), rng, talkers)
        if rng.random() < 0.4:
            audio = channels.CODECS[rc.DEV_CODECS[int(rng.integers(len(rc.DEV_CODECS)))]](audio)
        return augment_lib.below_full_scale(audio)
    return condition


DEV_LEVEL_DEPTH_DB = (12.0, 24.0)
DEV_LEVEL_RATE_HZ = (0.4, 2.0)


def level_drift(audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """dev_levels: a level that drifts smoothly within the utterance, as when a speaker turns
    away from or leans into the microphone: a gain of 0 dB at its loudest and 12-24 dB less
    at its quietest, following a sum of three slow sinusoids (0.4-2 Hz). Unlike training's
    word_gain_db it ignores where the words are, and the level changes within words too."""
    t = np.arange(audio.size) / MODEL_SAMPLE_RATE
    curve = sum(np.sin(2 * np.pi * rng.uniform(*DEV_LEVEL_RATE_HZ) * t + rng.uniform(0, 2 * np.pi)) for _ in range(3))
    span = curve.max() - curve.min()
    shape = (curve - curve.min()) / span if span > 0 else np.ones_like(curve)  # 1 at the loudest
    gain_db = -rng.uniform(*DEV_LEVEL_DEPTH_DB) * (1 - shape)
    return (np.asarray(audio, np.float64) * 10 ** (gain_db / 20)).astype(np.float32)


NOISY_TEST_KEY = 7001  # the generator key of test_real_noisy_<S>db's condition (benchmarks/noisy_by_kind.py)


def _held_out_noise(snr_db, clips):
    """test_real_noisy_<S>db: a held-out noise kind (street or cafe) at exactly ``snr_db``."""
    def condition(audio, rng):
        kind = rc.HELD_OUT_NOISE_KINDS[int(rng.integers(len(rc.HELD_OUT_NOISE_KINDS)))]
        noisy = noises.mix_at_snr(audio, noises.make(kind, audio.size, rng, clips), snr_db)
        return augment_lib.below_full_scale(noisy)
    return condition


def held_out_rooms(seed: int, count: int = 24) -> tuple:
    return channels.room_bank((seed, 7101), count, rc.HELD_OUT_RT60, tuple(map(tuple, rc.HELD_OUT_ROOM_DIMS)))


def _held_out_channel(rooms):
    """test_real_channel: a held-out room (a hall, RT60 0.8-1.3 s) and the held-out AMR-NB codec."""
    def condition(audio, rng):
        audio = channels.convolve(audio, rooms[int(rng.integers(len(rooms)))][0])
        audio = channels.amr_nb(audio)
        return augment_lib.below_full_scale(audio)
    return condition


def _robustness_plan(config, pools, plan, keys, extras):
    """Adds the opt-in development and held-out test splits (data.dev_splits, data.dev_shifted, data.dev_levels,
    data.noisy_test_snrs, data.channel_test) after today's, leaving those untouched."""
    plan, keys, seed = dict(plan), dict(keys), config.seed
    if config.dev_splits:
        dev = [(pools["dev_pseudo"], 1), (pools["dev_espeak"], 1), (pools["dev_tts"], 1)]
        plan["dev_clean"] = plan["dev_noisy"] = (config.dev_utterances, dev, False)
        keys["dev_clean"] = keys["dev_noisy"] = (seed, 6001)  # dev_noisy: dev_clean's utterances, conditioned
        dev_babble = dev_talkers(pools, (seed, 6002))
        dev_rooms = channels.room_bank((seed, 6003), 24, tuple(rc.AugmentConfig().room_rt60_seconds),
                                       tuple(map(tuple, rc.AugmentConfig().room_dims_m)))
        extras["dev_noisy"] = {"condition": (_dev_condition(dev_babble, dev_rooms), (seed, DEV_NOISY_KEY))}
    if config.dev_shifted:
        plan[DEV_SHIFTED], keys[DEV_SHIFTED] = plan["dev_clean"], keys["dev_clean"]
        talkers = dev_talkers(pools, (seed, DEV_TALKERS_KEY))
        rooms = channels.room_bank((seed, 6103), 24, rc.DEV_RT60, tuple(map(tuple, rc.DEV_ROOM_DIMS)))
        extras[DEV_SHIFTED] = {"condition": (_dev_shifted_condition(talkers, rooms), (seed, 6104))}
    if config.dev_levels:
        plan[DEV_LEVELS], keys[DEV_LEVELS] = plan["dev_clean"], keys["dev_clean"]
        extras[DEV_LEVELS] = {"condition": (level_drift, (seed, 6301))}
    test_real = plan["test_real"]
    held_out_babble = None
    for snr in config.noisy_test_snrs:
        if held_out_babble is None:
            held_out_babble = babble_clips([pools["espeak_test"]], (seed, 7002))
        name = noisy_test_split(snr)
        plan[name], keys[name] = test_real, keys["test_real"]  # test_real's utterances, paired
        extras[name] = {"condition": (_held_out_noise(float(snr), held_out_babble), (seed, NOISY_TEST_KEY))}
    if config.channel_test:
        plan["test_real_channel"], keys["test_real_channel"] = test_real, keys["test_real"]
        extras["test_real_channel"] = {"condition": (_held_out_channel(held_out_rooms(seed)), (seed, 7102))}
    return plan, keys, extras


def noise_only_split(config, pools):
    """noise_only: 2-8 s of a held-out noise kind at -45 to -20 dBFS RMS, no words (its
    name does not start with test: evaluation would divide by zero words; the study counts
    the words a model emits per minute of it)."""
    clips = babble_clips([pools["espeak_test"]], (config.seed, 7002))
    return _noise_only(NOISE_ONLY, config.noise_only_utterances, rc.HELD_OUT_NOISE_KINDS, clips, (config.seed, 7201))


def dev_noise_only_split(config, pools):
    """dev_noise_only (with data.dev_shifted): noise_only's counterpart for choosing, in
    dev_shifted's development-only kinds (rain, television)."""
    clips = dev_talkers(pools, (config.seed, DEV_TALKERS_KEY))  # dev_shifted's television talkers
    return _noise_only(DEV_NOISE_ONLY, config.noise_only_utterances, rc.DEV_NOISE_KINDS, clips, (config.seed, 6201))


def _noise_only(name, count, kinds, clips, key):
    audio, sources = [], []
    for index in range(count):
        rng = np.random.default_rng([*key, index])
        kind = kinds[int(rng.integers(len(kinds)))]
        noise = noises.make(kind, int(rng.uniform(2.0, 8.0) * MODEL_SAMPLE_RATE), rng, clips)
        noise = noise * 10 ** (rng.uniform(-45.0, -20.0) / 20)
        audio.append(float_to_pcm(np.clip(noise, -0.99, 0.99)))
        sources.append(noise_source(kind))
    return (name, [""] * len(audio), zip(audio, [""] * len(audio), sources),
            _noise_descriptions(sources))


def _noise_descriptions(sources) -> dict:
    """The manifest's description of the noise sources among ``sources``."""
    return {s: {"engine": "noise", "voice": s.split(":", 1)[1]} for s in sorted(set(sources)) if is_noise_source(s)}


def conditions(config) -> dict:
    """What the manifest records of the robustness splits' conditions (only when one is on)."""
    out = {}
    augment_config = config.augment
    out["train"] = {"noise_kinds": list(augment_config.noise_kinds), "babble_from": "training voices",
                    "codecs": list(augment_config.codecs) if augment_config.codec_probability > 0 else [],
                    "room_rt60_seconds": list(augment_config.room_rt60_seconds)
                    if augment_config.room_probability > 0 else []}
    if config.dev_splits:
        out["dev_noisy"] = {"noise_kinds": list(rc.TRAIN_NOISE_KINDS), "babble_from": "validation voices",
                            "codecs": list(rc.TRAIN_CODECS),
                            "room_rt60_seconds": list(rc.AugmentConfig().room_rt60_seconds),
                            "snr_db": list(DEV_SNR_DB), "generators": [config.seed, 6000]}
    if config.dev_shifted:
        out[DEV_SHIFTED] = {"noise_kinds": list(rc.DEV_NOISE_KINDS), "babble_from": "validation voices",
                            "codecs": list(rc.DEV_CODECS), "room_rt60_seconds": list(rc.DEV_RT60),
                            "room_dims_m": [list(c) for c in rc.DEV_ROOM_DIMS],
                            "snr_db": list(DEV_SNR_DB), "generators": [config.seed, 6100]}
    if config.dev_levels:
        out[DEV_LEVELS] = {"level_drift_db": list(DEV_LEVEL_DEPTH_DB), "drift_hz": list(DEV_LEVEL_RATE_HZ),
                           "generators": [config.seed, 6301]}
    for snr in config.noisy_test_snrs:
        out[noisy_test_split(snr)] = {"noise_kinds": list(rc.HELD_OUT_NOISE_KINDS),
                                             "babble_from": "held-out espeak-ng variants (test_synthetic's)",
                                             "snr_db": [snr, snr], "generators": [config.seed, 7000]}
    if config.channel_test:
        out["test_real_channel"] = {"codecs": list(rc.HELD_OUT_CODECS), "room_rt60_seconds": list(rc.HELD_OUT_RT60),
                                    "room_dims_m": [list(c) for c in rc.HELD_OUT_ROOM_DIMS],
                                    "generators": [config.seed, 7100]}
    if config.noise_only_utterances:
        out["noise_only"] = {"noise_kinds": list(rc.HELD_OUT_NOISE_KINDS), "generators": [config.seed, 7200]}
        if config.dev_shifted:
            out[DEV_NOISE_ONLY] = {"noise_kinds": list(rc.DEV_NOISE_KINDS), "generators": [config.seed, 6200]}
    return out


def describe(config) -> dict:
    """What the data manifest records of the digit task's speakers and voices."""
    return {
        "fsdd_speakers": {"train": list(config.train_speakers), "test": list(config.test_speakers)},
        "held_out_variants": list(espeak_voices.HELD_OUT_VARIANTS),
        "tts_voices": {"train": list(config.tts_voices) + list(config.neural_tts_voices),
                       "test": list(config.tts_test_voices)},
        **({"conditions": conditions(config)} if robustness_on(config) else {}),
    }


def robustness_on(config) -> bool:
    return bool(config.dev_splits or config.noisy_test_snrs or config.channel_test or config.noise_only_utterances)
