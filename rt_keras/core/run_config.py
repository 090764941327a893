"""The configuration of a run: data, front-end, encoder, training. Loaded from YAML
(``configs/*.yaml``), every value overridable with ``--set section.field=value``, and
written back resolved into the run directory."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import pathlib

import yaml

from converters.files import PathError, atomic_write_text, check_path_text
from rt_keras.core.encoder_config import ConfigError, EncoderConfig, preset_fields, reject_unknown
from rt_keras.core.splits import DEV_SHIFTED, DEV_SPLITS
from rt_keras.core.vocabulary import KINDS as VOCABULARY_KINDS

# Bumped whenever the same data config generates different audio, so a cache made by
# older code is not taken for the current one (2: seeded espeak-ng noise, pseudo-speakers,
# flite/festival, per-utterance generators).
DATA_GENERATOR_VERSION = 2


# Conditions of the robustness work (docs/robustness.md). Training and development may use
# the first kinds; the held-out noisy and channel test splits use only the second, so no
# new seed of the training generator can pass them.
TRAIN_NOISE_KINDS = ("white", "brown", "pink", "hum", "music", "babble")
HELD_OUT_NOISE_KINDS = ("street", "cafe")
TRAIN_CODECS = ("mulaw", "alaw", "gsm")
HELD_OUT_CODECS = ("amr-nb",)
HELD_OUT_RT60 = (0.8, 1.3)  # seconds: test rooms reverberate longer than any training room may
HELD_OUT_ROOM_DIMS = ([8.0, 6.0, 3.0], [16.0, 12.0, 5.0])  # metres: halls, larger than training rooms
# The dev_shifted development split (data.dev_shifted) uses conditions of its own, in neither
# training nor testing, so that a choice made on it is a choice for conditions never trained on.
DEV_NOISE_KINDS = ("rain", "television")
DEV_CODECS = ("ima-adpcm", "vorbis")
DEV_RT60 = (0.08, 0.13)  # seconds: car cabins and closets, deader than any training room may be
DEV_ROOM_DIMS = ([1.5, 1.2, 1.0], [2.8, 2.2, 2.2])  # metres: smaller than training rooms


@dataclasses.dataclass
class AugmentConfig:
    noise_probability: float = 0.6
    snr_db: tuple = (5.0, 30.0)
    reverb_probability: float = 0.3
    rt60_seconds: tuple = (0.15, 0.6)
    speed_probability: float = 0.5
    speed: tuple = (0.9, 1.1)
    gain_db: tuple = (-12.0, 6.0)
    telephone_probability: float = 0.3
    # Added later (rt_keras.data.augment): at these defaults the audio is exactly what the
    # fields above alone made, and data keys and manifests are unchanged.
    noise_kinds: list = dataclasses.field(default_factory=lambda: ["white", "brown"])  # of TRAIN_NOISE_KINDS
    long_pause_probability: float = 0.0  # per gap (and before/after the digits): a long pause instead
    long_pause_seconds: list = dataclasses.field(default_factory=lambda: [0.5, 2.5])
    room_probability: float = 0.0  # an image-method room (pyroomacoustics)
    room_rt60_seconds: list = dataclasses.field(default_factory=lambda: [0.15, 0.7])
    room_dims_m: list = dataclasses.field(default_factory=lambda: [[3.0, 2.5, 2.4], [8.0, 6.0, 3.5]])
    eq_probability: float = 0.0  # microphone / loudspeaker colouration
    eq_max_db: float = 10.0
    codec_probability: float = 0.0
    codecs: list = dataclasses.field(default_factory=lambda: ["mulaw", "alaw", "gsm"])  # of TRAIN_CODECS
    low_level_probability: float = 0.0  # a quiet recording: peak this many dB below full scale
    low_level_dbfs: list = dataclasses.field(default_factory=lambda: [-45.0, -25.0])
    clip_probability: float = 0.0  # hard clipping at this fraction of the peak
    clip_fraction: list = dataclasses.field(default_factory=lambda: [0.2, 0.6])
    # A training utterance of noise alone, its transcript empty, so that CTC learns to emit
    # nothing from noise: one of noise_kinds but babble (digit words), as long as most speech
    # utterances of configs/rt.yaml (5th-95th percentile 0.6-3.0 s).
    noise_only_probability: float = 0.0
    noise_only_seconds: list = dataclasses.field(default_factory=lambda: [0.5, 3.0])
    noise_only_dbfs: list = dataclasses.field(default_factory=lambda: [-55.0, -15.0])  # RMS level
    # Each word of an utterance at its own level, this many dB relative to its recording: real
    # speakers' words vary (FSDD's five: an sd of 2.5-6.2 dB per word; docs/results.md), and a
    # model that has only heard words at an even level takes a quiet one for a background talker.
    word_gain_db: list = dataclasses.field(default_factory=lambda: [0.0, 0.0])
    # Silence (the faint noise floor) before the first digit and after the last, in seconds, of a
    # training utterance; evaluation splits keep [0.05, 0.25]. A digit cut from a recording has
    # almost none, a push-to-talk clip a second or more (benchmarks/isolated_digits.py).
    edge_pause_seconds: list = dataclasses.field(default_factory=lambda: [0.05, 0.25])
    # Each of those two pauses is 0 s (the word touches the edge) with this probability: a model
    # that has never heard a word start at the first sample drops it (benchmarks/isolated_digits.py).
    tight_edge_probability: float = 0.0

    def __post_init__(self):
        for field, allowed in (("noise_kinds", TRAIN_NOISE_KINDS), ("codecs", TRAIN_CODECS)):
            value = getattr(self, field)
            if not isinstance(value, (list, tuple)) or not value or not set(value) <= set(allowed):
                raise ConfigError(f"data.augment.{field}={value!r}: expected a non-empty list of {', '.join(allowed)} "
                                  "(the other kinds are held out for development and for testing)")
        for field in ("rt60_seconds", "long_pause_seconds", "room_rt60_seconds", "low_level_dbfs", "clip_fraction",
                      "noise_only_seconds", "noise_only_dbfs", "word_gain_db", "edge_pause_seconds"):
            value = getattr(self, field)
            if not (isinstance(value, (list, tuple)) and len(value) == 2 and value[0] <= value[1]):
                raise ConfigError(f"data.augment.{field}={value!r}: expected [low, high] with low <= high")
        for field in ("rt60_seconds", "room_rt60_seconds"):  # the exponential reverb and the image-method rooms
            low, high = getattr(self, field)
            if not DEV_RT60[1] < low or high >= HELD_OUT_RT60[0]:
                raise ConfigError(f"data.augment.{field}={[low, high]!r}: expected within ({DEV_RT60[1]}, "
                                  f"{HELD_OUT_RT60[0]}) s; longer rooms are held out for testing, deader ones for "
                                  "development (dev_shifted)")
        dims = self.room_dims_m
        if not (isinstance(dims, (list, tuple)) and len(dims) == 2 and all(
                isinstance(c, (list, tuple)) and len(c) == 3 for c in dims)
                and all(1.0 <= lo <= hi for lo, hi in zip(*dims))):
            raise ConfigError(f"data.augment.room_dims_m={dims!r}: expected [[x, y, z], [x, y, z]] in metres, "
                              "the smallest and largest room, each side at least 1 m")
        for field, valid, expected in (
                ("noise_only_probability", 0 <= self.noise_only_probability <= 1, "a probability in [0, 1]"),
                ("tight_edge_probability", 0 <= self.tight_edge_probability <= 1, "a probability in [0, 1]"),
                ("noise_only_seconds", self.noise_only_seconds[0] > 0, "positive durations"),
                ("noise_only_dbfs", self.noise_only_dbfs[1] <= 0, "RMS levels at most 0 dBFS"),
                ("edge_pause_seconds", self.edge_pause_seconds[0] >= 0, "seconds >= 0"),
                ("word_gain_db", -40 <= self.word_gain_db[0] and self.word_gain_db[1] <= 0,
                 "gains between -40 and 0 dB"),
                ("noise_kinds", self.noise_only_probability == 0 or set(self.noise_kinds) != {"babble"},
                 "a kind besides babble for the noise-only utterances (babble is digit words)")):
            if not valid:
                raise ConfigError(f"data.augment.{field}={getattr(self, field)!r}: expected {expected}")
        if not 0 < self.clip_fraction[0] <= self.clip_fraction[1] <= 1:
            raise ConfigError(f"data.augment.clip_fraction={self.clip_fraction!r}: expected fractions in (0, 1]")


def file_hash(path) -> str:
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


DATA_SOURCES = ("digits", "manifest")


@dataclasses.dataclass
class DataConfig:
    source: str = "digits"  # digits: the embedded FSDD + synthetic task; manifest: your recordings
    # source manifest: {train: PATH, validation: PATH, test...: PATH} (JSON Lines or CSV); without a
    # validation (or any test) manifest, those splits are carved from train by split_by
    manifests: dict = dataclasses.field(default_factory=dict)
    vocabulary: str = "word"  # word | char | subword (sentencepiece, subword_pieces pieces)
    subword_pieces: int = 64
    split_by: str = "speaker"  # speaker | utterance
    validation_fraction: float = 0.1
    test_fraction: float = 0.1
    strict_paths: bool = False  # refuse manifest rows whose audio lies outside the manifest's directory
    storage: str = "memory"  # memory: .npz splits loaded whole; shards: TFRecord shards streamed in training
    shard_utterances: int = 1000
    fsdd_dir: str | None = None  # None: $RT_KERAS_FSDD or ../shared/data/fsdd
    cache_dir: str = ".cache/data"
    seed: int = 0
    train_speakers: list = dataclasses.field(default_factory=lambda: ["george", "jackson", "nicolas", "yweweler"])
    test_speakers: list = dataclasses.field(default_factory=lambda: ["theo"])
    validation_takes: int = 5  # the last takes of each training speaker go to validation
    synthetic_voices: int = 160
    held_out_voices: int = 24
    pseudo_speakers: int = 8  # vocal-tract/pitch perturbed copies of each FSDD training speaker
    perturbed_takes: int = 12  # clips per digit each pseudo-speaker speaks
    formant_range: list = dataclasses.field(default_factory=lambda: [0.88, 1.4])
    pitch_range: list = dataclasses.field(default_factory=lambda: [80.0, 320.0])
    tts_voices: list = dataclasses.field(default_factory=lambda: [
        "flite:kal", "flite:awb", "flite:rms", "festival:kal_diphone", "festival:ked_diphone"])
    tts_test_voices: list = dataclasses.field(default_factory=lambda: ["flite:slt", "festival:cmu_us_slt_arctic_hts"])
    # Neural voices (hibari:heart, hibari:heart_gb, piper:joe) join the training TTS voices, at the
    # same tempos and with perturbed variants; the development splits are built from tts_voices
    # alone, so arms with and without them are compared on the same utterances.
    neural_tts_voices: list = dataclasses.field(default_factory=list)
    tts_stretches: list = dataclasses.field(default_factory=lambda: [0.85, 1.0, 1.25])
    tts_variants: int = 4  # perturbed pseudo-speakers of each TTS voice and tempo
    # test_real_perturbed: (formant ratio, median F0 Hz) of a female-, a child- and a deeper voice
    test_perturbations: list = dataclasses.field(default_factory=lambda: [[1.18, 210.0], [1.32, 290.0], [0.9, 90.0]])
    # Training mixture: weights of espeak-ng, flite/festival (half perturbed), FSDD, perturbed FSDD
    mix: dict = dataclasses.field(default_factory=lambda: {"espeak": 0.3, "tts": 0.2, "fsdd": 0.2,
                                                           "fsdd_perturbed": 0.3})
    train_utterances: int = 2000
    validation_utterances: int = 300
    test_utterances: int = 200
    test_real_utterances: int = 600  # every clip of the held-out speakers is used
    min_digits: int = 1
    max_digits: int = 7
    pause_seconds: list = dataclasses.field(default_factory=lambda: [0.05, 0.4])
    max_clip_seconds: float = 3.0
    max_seconds: float = 12.0
    augment: AugmentConfig = dataclasses.field(default_factory=AugmentConfig)
    # Robustness splits (docs/robustness.md), all off by default: dev_clean and dev_noisy for
    # choosing (held-out pseudo-speakers and voices; training's noise/room/codec kinds with their
    # own generators); dev_shifted (dev_clean under development-only noise, rooms and codecs:
    # DEV_NOISE_KINDS, DEV_RT60, DEV_CODECS); test_real_noisy_<S>db for every S here
    # (test_real's utterances with held-out noise at exactly S dB); test_real_channel (held-out
    # rooms and codec); noise_only (held-out noise, no words: the words a model emits from it;
    # with dev_shifted also dev_noise_only, the same in dev_shifted's noise kinds).
    dev_splits: bool = False
    dev_utterances: int = 300
    dev_shifted: bool = False  # dev_shifted: dev_clean's utterances under development-only conditions
    dev_levels: bool = False  # dev_levels: dev_clean's utterances with a level that drifts 12-24 dB within them
    noisy_test_snrs: list = dataclasses.field(default_factory=list)
    channel_test: bool = False
    noise_only_utterances: int = 0

    def __post_init__(self):
        snrs = self.noisy_test_snrs
        if not isinstance(snrs, (list, tuple)) or len(set(map(str, snrs))) != len(snrs) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and -20 <= v <= 60 for v in snrs):
            raise ConfigError(f"data.noisy_test_snrs={snrs!r}: expected distinct SNRs in dB between -20 and 60")
        mix_keys = ("espeak", "tts", "fsdd", "fsdd_perturbed")
        if not isinstance(self.mix, dict) or set(self.mix) != set(mix_keys) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in self.mix.values()) \
                or not sum(self.mix.values()) > 0:
            raise ConfigError(f"data.mix={self.mix!r}: expected non-negative weights for exactly "
                              f"{', '.join(mix_keys)} (not all zero)")
        if self.source == "manifest":
            if not isinstance(self.manifests, dict) or "train" not in self.manifests:
                raise ConfigError(f"data.manifests={self.manifests!r}: data.source=manifest needs at least "
                                  "{train: PATH} (and optionally validation, test, test_NAME)")
            bad = [k for k in self.manifests if k not in ("train", "validation") and not str(k).startswith("test")]
            bad += [k for k, v in self.manifests.items() if not isinstance(v, str) or not v]
            if bad:
                raise ConfigError(f"data.manifests: {sorted(set(map(str, bad)))}: keys are train, validation "
                                  "or test[_NAME], each a manifest path")
        elif self.manifests:
            raise ConfigError(f"data.manifests is set but data.source={self.source!r}; "
                              "set data.source=manifest to train on your manifests")
        for field in ("validation_fraction", "test_fraction"):
            if not 0 < getattr(self, field) < 0.5:
                raise ConfigError(f"data.{field}={getattr(self, field)!r}: expected a fraction between 0 and 0.5")
        for field in ("formant_range", "pitch_range"):
            value = getattr(self, field)
            if not (isinstance(value, (list, tuple)) and len(value) == 2 and 0 < value[0] <= value[1]):
                raise ConfigError(f"data.{field}={value!r}: expected [low, high] with 0 < low <= high")


@dataclasses.dataclass
class FrontendConfig:
    sample_rate: int = 16000
    frame_length: int = 512  # 32 ms; a power of two so the FFT is TFLite's builtin RFFT2D
    frame_step: int = 160  # 10 ms
    num_mel_bins: int = 40
    lower_hz: float = 20.0
    upper_hz: float = 7600.0
    log_floor: float = 1e-6
    time_masks: int = 2
    time_mask_frames: int = 12
    frequency_masks: int = 2
    frequency_mask_bins: int = 8
    # Seconds of digital silence the whole-utterance model puts in front of its input (in the
    # graph, in training and in every exported file): a word that starts at the first sample,
    # as a digit cut from a recording does, otherwise has no onset frame and is often lost.
    # The streaming step has none (a stream's start is its state).
    leading_silence_seconds: float = 0.0

    def __post_init__(self):
        if not 0.0 <= self.leading_silence_seconds <= 1.0:  # the type is checked with every field's
            raise ConfigError(f"frontend.leading_silence_seconds={self.leading_silence_seconds!r}: expected seconds "
                              "in [0, 1] (0 adds none; 0.1 is 1,600 samples at 16 kHz)")

    @property
    def leading_samples(self) -> int:
        return round(self.leading_silence_seconds * self.sample_rate)


SELECTION_SPLITS = ("validation", *DEV_SPLITS, DEV_SHIFTED)


@dataclasses.dataclass
class TrainConfig:
    epochs: int = 12
    batch_size: int = 16
    learning_rate: float = 1.5e-3
    warmup_steps: int = 300
    clipnorm: float = 5.0
    seed: int = 0
    steps_per_epoch: int | None = None  # None: one pass over the training split
    shortest_first: bool = True  # SortaGrad: the first pass in order of length
    strategy: str = "default"  # default | mirrored | multi_worker
    init_from: str | None = None  # a run directory whose model.keras (same architecture) starts training
    # The splits whose pooled WER picks the shipped checkpoint (training and QAT): `validation`
    # holds takes of the training voices; dev_clean/dev_noisy (data.dev_splits) hold new ones.
    select_on: list = dataclasses.field(default_factory=lambda: ["validation"])
    # > 0: validation, the best checkpoint and the shipped model use an exponential moving
    # average of the weights (this momentum per step; 0.999 averages over ~1,000 steps).
    ema_momentum: float = 0.0

    def __post_init__(self):
        if isinstance(self.ema_momentum, bool) or not isinstance(self.ema_momentum, (int, float)) \
                or not 0.0 <= self.ema_momentum < 1.0:
            raise ConfigError(f"train.ema_momentum={self.ema_momentum!r}: expected a number in [0, 1) "
                              "(0 turns the weight average off; 0.999 averages over ~1,000 steps)")
        self.select_on = list(self.select_on)
        unknown = sorted(set(self.select_on) - set(SELECTION_SPLITS))
        if not self.select_on or unknown or len(set(self.select_on)) != len(self.select_on):
            raise ConfigError(f"train.select_on={list(self.select_on)!r}: expected distinct names "
                              f"from {', '.join(SELECTION_SPLITS)}")


@dataclasses.dataclass
class QATConfig:
    """Quantisation-aware fine-tuning of a trained float run (``rt-keras qat``)."""
    epochs: int = 1
    steps_per_epoch: int = 100  # 300 steps was not better over two runs (docs/results.md, "Int8 on unseen voices")
    batch_size: int = 16
    learning_rate: float = 1e-4  # a float run is fine-tuned, not retrained
    calibration_batches: int = 20  # forward passes that set the activation ranges first
    calibration_utterances: int = 100  # representative dataset of the int8 conversions
    # 8: int8 weights (RUN_DIR/qat, --mode qat-int8); 4: 4-bit weight matrices (RUN_DIR/qat4, --mode qat-int4)
    weight_bits: int = 8


@dataclasses.dataclass
class DecodeConfig:
    """How the shipped model's output becomes words (evaluation, ``rt-keras transcribe`` and
    the app, which read it from the file's metadata). Training and its validation decode
    without it."""
    # > 0: greedy CTC decoding drops a token whose probability stays below this on every frame
    # of its run (rt_keras.core.contracts.greedy_decode): fewer words from noise, some quiet
    # words lost (benchmarks/confidence_gate.py measures both).
    min_token_probability: float = 0.0

    def __post_init__(self):
        if not 0.0 <= self.min_token_probability < 1.0:
            raise ConfigError(f"decode.min_token_probability={self.min_token_probability!r}: expected a "
                              "probability in [0, 1) (0 keeps every token)")


@dataclasses.dataclass
class RunConfig:
    name: str = "rt"
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    frontend: FrontendConfig = dataclasses.field(default_factory=FrontendConfig)
    encoder: EncoderConfig = dataclasses.field(default_factory=EncoderConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    qat: QATConfig = dataclasses.field(default_factory=QATConfig)
    decode: DecodeConfig = dataclasses.field(default_factory=DecodeConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def data_key(self) -> str:
        """Identifies the materialised data: runs with equal data configs share a cache.
        Fields added later count only when set, so existing caches keep their keys; a
        manifest counts by its contents."""

        data = data_record(self.data, _LATER_DATA_FIELDS)
        data.pop("cache_dir")
        if self.data.source == "manifest":
            data["manifests"] = {name: [path, file_hash(path) if pathlib.Path(path).is_file() else None]
                                 for name, path in sorted(self.data.manifests.items())}
        data["generator_version"] = DATA_GENERATOR_VERSION
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


_DEFAULT_DATA = DataConfig()
_ROBUSTNESS_DATA_FIELDS = ("dev_splits", "dev_utterances", "dev_shifted", "noisy_test_snrs", "channel_test",
                           "noise_only_utterances", "dev_levels", "neural_tts_voices")
_LATER_DATA_FIELDS = ("source", "manifests", "vocabulary", "subword_pieces", "split_by", "validation_fraction",
                      "test_fraction", "strict_paths", "storage", "shard_utterances", *_ROBUSTNESS_DATA_FIELDS)
_LATER_AUGMENT_FIELDS = tuple(f.name for f in dataclasses.fields(AugmentConfig))[8:]


def data_record(data: DataConfig, later=_ROBUSTNESS_DATA_FIELDS) -> dict:
    """The data config as the data manifest (and, with ``later=_LATER_DATA_FIELDS``, the
    data key) records it: the ``later`` fields and the augmentation fields added later
    count only when set, so the manifests and caches of existing configs stay as they were."""
    record = dataclasses.asdict(data)
    for field in later:
        if record[field] == getattr(_DEFAULT_DATA, field):
            record.pop(field)
    for field in _LATER_AUGMENT_FIELDS:
        if record["augment"][field] == getattr(_DEFAULT_DATA.augment, field):
            record["augment"].pop(field)
    return record
_SECTIONS = {"data": DataConfig, "frontend": FrontendConfig, "train": TrainConfig, "qat": QATConfig,
             "decode": DecodeConfig}


# Fields that must be at least this (checked with the types, before anything is written).
_MINIMUM = {"train.epochs": 1, "train.batch_size": 1, "train.warmup_steps": 0, "train.steps_per_epoch": 1,
            "train.learning_rate": 1e-12, "qat.epochs": 1, "qat.steps_per_epoch": 1, "qat.batch_size": 1,
            "qat.learning_rate": 1e-12, "qat.calibration_batches": 0, "qat.calibration_utterances": 1,
            "frontend.sample_rate": 8000, "frontend.frame_length": 16, "frontend.frame_step": 1,
            "frontend.num_mel_bins": 1, "data.train_utterances": 1, "data.validation_utterances": 1,
            "data.test_utterances": 1, "data.test_real_utterances": 1, "data.min_digits": 1, "data.max_digits": 1,
            "data.synthetic_voices": 1, "data.held_out_voices": 1, "data.pseudo_speakers": 0,
            "data.perturbed_takes": 1, "data.tts_variants": 0, "data.validation_takes": 1,
            "data.max_seconds": 0.5, "data.max_clip_seconds": 0.1, "data.subword_pieces": 4,
            "data.shard_utterances": 1, "data.dev_utterances": 1, "data.noise_only_utterances": 0}
_CHOICES = {"train.strategy": ("default", "mirrored", "multi_worker"), "data.source": DATA_SOURCES,
            "data.vocabulary": VOCABULARY_KINDS, "data.split_by": ("speaker", "utterance"),
            "data.storage": ("memory", "shards"), "qat.weight_bits": (4, 8)}


def _check_type(where: str, value, default):
    """``value`` must have the type of the field's default (ints are valid floats)."""
    name = where.split(": ")[-1]
    if default is None:  # optional fields: None or an integer (steps_per_epoch) / a path (fsdd_dir)
        if value is None:
            return
        default = 1 if name.endswith("steps_per_epoch") else ""
    expected = list if isinstance(default, tuple) else type(default)
    if expected is list and isinstance(value, tuple):
        value = list(value)
    ok = (isinstance(value, bool) if expected is bool else
          isinstance(value, (int, float)) and not isinstance(value, bool) if expected is float else
          isinstance(value, expected) and not (expected is int and isinstance(value, bool)))
    if not ok:
        raise ConfigError(f"{where}={value!r}: expected {expected.__name__}, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}={value!r}: expected a finite number")
    if name in _MINIMUM and value < _MINIMUM[name]:
        raise ConfigError(f"{where}={value!r}: must be at least {_MINIMUM[name]}")
    if name in _CHOICES and value not in _CHOICES[name]:
        raise ConfigError(f"{where}={value!r}; allowed: {', '.join(map(str, _CHOICES[name]))}")
    if name == "frontend.frame_length" and value & (value - 1):
        raise ConfigError(f"{where}={value!r}: must be a power of two (TFLite's builtin FFT), e.g. 256, 512")


def _build(cls, values, where: str):
    if not isinstance(values, dict):
        raise ConfigError(f"{where}: expected a section of FIELD: VALUE entries, "
                          f"got {type(values).__name__} {values!r}")
    defaults = cls()
    reject_unknown(values, [f.name for f in dataclasses.fields(cls)], where)
    kwargs = {}
    for name, value in values.items():
        if name == "augment":
            value = _build(AugmentConfig, value, f"{where}.augment")
        else:
            _check_type(f"{where}.{name}", value, getattr(defaults, name))
        kwargs[name] = value
    return cls(**kwargs)


def from_dict(values: dict, source: str = "config") -> RunConfig:
    if values is not None and not isinstance(values, dict):
        raise ConfigError(
            f"{source}: expected a mapping of sections (data, frontend, encoder, train, qat, decode), "
            f"got {type(values).__name__}"
        )
    values = dict(values or {})
    reject_unknown(values, ["name", "encoder", *_SECTIONS], source, "section(s)")
    sections = {name: _build(cls, values.get(name) or {}, f"{source}: {name}") for name, cls in _SECTIONS.items()}
    encoder = values.get("encoder") or {}
    if not isinstance(encoder, dict):
        raise ConfigError(f"{source}: encoder: expected a section of FIELD: VALUE entries, "
                          f"got {type(encoder).__name__} {encoder!r}")
    encoder = dict(encoder)
    preset = encoder.pop("preset", None)
    if preset is not None:
        encoder = {**preset_fields(preset, f"{source}: encoder.preset"), **encoder}
    config = RunConfig(name=values.get("name", "run"), encoder=EncoderConfig.from_dict(encoder), **sections)
    dev_options = [f"data.{field}" for field in ("dev_shifted", "dev_levels") if getattr(config.data, field)]
    if (set(config.train.select_on) & set(DEV_SPLITS) or dev_options) and not config.data.dev_splits:
        needs = dev_options[0] if dev_options else f"train.select_on={list(config.train.select_on)!r}"
        raise ConfigError(f"{source}: {needs} needs the development splits: set data.dev_splits=true")
    if DEV_SHIFTED in config.train.select_on and not config.data.dev_shifted:
        raise ConfigError(f"{source}: train.select_on={list(config.train.select_on)!r} needs the {DEV_SHIFTED} "
                          "split: set data.dev_shifted=true")
    return config


def apply_overrides(values: dict, overrides: list[str]) -> dict:
    """``["train.epochs=3", "encoder.rank=8"]`` -> nested dict updates (values parsed as YAML)."""
    values = copy.deepcopy(values)
    for item in overrides or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r}: expected SECTION.FIELD=VALUE, e.g. train.epochs=3")
        target = values
        parts = key.split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ConfigError(f"override {item!r}: {part} is not a section")
        try:
            target[parts[-1]] = yaml.safe_load(raw)
        except yaml.YAMLError as error:
            problem = str(error).splitlines()[0]
            raise ConfigError(f"override {item!r}: the value is not valid YAML ({problem})") from None
    return values


def load(path, overrides: list[str] | None = None) -> RunConfig:
    path = pathlib.Path(path)
    if not path.is_file():
        raise ConfigError(
            f"config file {path} not found (presets are in configs/: baseline.yaml, albert.yaml, rt.yaml, tiny.yaml)"
        )
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as error:
        raise ConfigError(f"{path}: not a valid YAML config ({str(error).splitlines()[0]})") from None
    if not isinstance(values, dict):
        raise ConfigError(
            f"{path}: expected a mapping of sections (data, frontend, encoder, train, qat), got {type(values).__name__}"
        )
    config = from_dict(apply_overrides(values, overrides or []), str(path))
    _check_paths(config)
    # A run directory must not depend on the directory it is used from later.
    config.data.cache_dir = str(pathlib.Path(config.data.cache_dir).expanduser().absolute())
    for section, field in (("data", "fsdd_dir"), ("train", "init_from")):
        value = getattr(getattr(config, section), field)
        if value:
            setattr(getattr(config, section), field, str(pathlib.Path(value).expanduser().absolute()))
    config.data.manifests = {
        name: str(pathlib.Path(value).expanduser().absolute()) for name, value in config.data.manifests.items()
    }
    return config


def _check_paths(config: RunConfig) -> None:
    """Path settings that no file system can hold (empty, a NUL) or that name the wrong
    kind of file are refused before any work, not after minutes of data generation."""
    paths = {"data.cache_dir": config.data.cache_dir, "data.fsdd_dir": config.data.fsdd_dir,
             "train.init_from": config.train.init_from,
             **{f"data.manifests.{name}": value for name, value in config.data.manifests.items()}}
    for field, value in paths.items():
        if value is None:
            continue
        try:
            path = check_path_text(value, field)
        except PathError as error:
            raise ConfigError(str(error)) from None
        if field in ("data.cache_dir", "data.fsdd_dir", "train.init_from") and path.exists() and not path.is_dir():
            raise ConfigError(f"{field}={value!r}: not a directory")


def save(config: RunConfig, path) -> None:

    atomic_write_text(path, yaml.safe_dump(config.to_dict(), sort_keys=False))


def load_resolved(path) -> RunConfig:
    """A resolved config written by ``save`` (its encoder has no preset, only fields)."""
    return from_dict(yaml.safe_load(pathlib.Path(path).read_text()), str(path))


__all__ = [
    "RunConfig",
    "DataConfig",
    "FrontendConfig",
    "TrainConfig",
    "QATConfig",
    "load",
    "save",
    "load_resolved",
    "from_dict",
    "apply_overrides",
]
