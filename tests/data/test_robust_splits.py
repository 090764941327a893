"""The opt-in robustness splits (docs/robustness.md): development splits for choosing, held-out
noisy/channel test splits and a noise-only split, disjoint from training in the way claimed."""

import numpy as np
import pytest

from rt_keras.core import run_config
from rt_keras.core.splits import (
    DEV_LEVELS,
    DEV_NOISE_ONLY,
    DEV_SHIFTED,
    DEV_SPLITS,
    NOISE_ONLY,
    SPLITS,
    is_noise_source,
    noisy_test_split,
)
from rt_keras.data import noises
from rt_keras.data.materialise import materialise
from rt_keras.data.storage import data_directory, load_split, read_manifest
from tests.helpers import ROOT, requires_fsdd

SNRS = (0, 20)
ROBUST = ["data.dev_splits=true", "data.dev_utterances=6", "data.dev_shifted=true", "data.dev_levels=true",
          f"data.noisy_test_snrs={list(SNRS)}", "data.channel_test=true", "data.noise_only_utterances=3"]


@pytest.fixture(scope="module")
def robust(tmp_path_factory):
    config = run_config.load(ROOT / "configs" / "tiny.yaml",
                             [f"data.cache_dir={tmp_path_factory.mktemp('robust-cache')}", *ROBUST])
    directory = materialise(config, progress=False)
    names = [*SPLITS, *DEV_SPLITS, DEV_SHIFTED, DEV_LEVELS, *map(noisy_test_split, SNRS), "test_real_channel",
             NOISE_ONLY, DEV_NOISE_ONLY]
    return config, read_manifest(directory), {name: load_split(directory, name) for name in names}


@requires_fsdd
def test_switching_them_on_leaves_todays_splits_byte_for_byte(robust, tiny_config):
    _, manifest, _ = robust
    today = read_manifest(data_directory(tiny_config))
    assert "conditions" not in today and "dev_clean" not in today["splits"]
    for name in SPLITS:
        assert manifest["splits"][name]["sha256"] == today["splits"][name]["sha256"], name


@requires_fsdd
def test_noisy_test_splits_are_test_real_under_held_out_noise_at_the_asked_snr(robust):
    _, _, splits = robust
    clean = splits["test_real"]
    for snr in SNRS:
        noisy = splits[noisy_test_split(snr)]
        assert noisy.transcripts == clean.transcripts and noisy.sources == clean.sources
        achieved = []
        for a, b in zip(clean.audio, noisy.audio):
            assert a.size == b.size
            a, b = a.astype(np.float64), b.astype(np.float64)
            gain = np.dot(a, b) / np.dot(a, a)  # undo the peak normalisation (the noise is independent)
            achieved.append(10 * np.log10(noises.active_power(a) / np.mean((b / gain - a) ** 2)))
        assert abs(np.median(achieved) - snr) < 1.0, achieved
    channel = splits["test_real_channel"]
    assert channel.transcripts == clean.transcripts
    assert all(a.size == b.size and not np.array_equal(a, b) for a, b in zip(clean.audio, channel.audio))


@requires_fsdd
def test_development_voices_are_in_no_other_split(robust):
    _, manifest, splits = robust
    development = (*DEV_SPLITS, DEV_SHIFTED, DEV_LEVELS)
    dev = set().union(*(splits[name].sources for name in development))
    assert dev and all(s.endswith("~dev") or manifest["sources"][s]["engine"] == "espeak-ng" for s in dev)
    for name, split in splits.items():
        if name not in development:
            assert not dev & set(split.sources), name
    for conditioned in ("dev_noisy", DEV_SHIFTED, DEV_LEVELS):
        assert splits[conditioned].transcripts == splits["dev_clean"].transcripts
        assert all(b.size >= a.size and not np.array_equal(a, b[:a.size])
                   for a, b in zip(splits["dev_clean"].audio, splits[conditioned].audio))
    # dev_shifted adds no noise-only stretches (dev_noise_only measures those): the lengths stay
    for conditioned in (DEV_SHIFTED, DEV_LEVELS):
        assert [a.size for a in splits[conditioned].audio] == [a.size for a in splits["dev_clean"].audio]
    assert {manifest["sources"][s]["engine"] for s in dev} >= {"fsdd", "espeak-ng"}


@requires_fsdd
def test_test_conditions_are_disjoint_from_training_and_development(robust):
    config, manifest, splits = robust
    conditions = manifest["conditions"]
    tests = [name for name in conditions if name.startswith("test") or name == NOISE_ONLY]
    choosers = ["train", "dev_noisy", DEV_SHIFTED, DEV_NOISE_ONLY, DEV_LEVELS]
    assert set(conditions) == {*tests, *choosers}
    assert set(tests) == {*map(noisy_test_split, SNRS), "test_real_channel", NOISE_ONLY}
    for chooser in choosers:
        seen = conditions[chooser]
        for name in tests + ([DEV_SHIFTED, DEV_NOISE_ONLY] if chooser == "train" else []):
            held_out = conditions[name]
            assert not set(seen.get("noise_kinds", [])) & set(held_out.get("noise_kinds", []))
            assert not set(seen.get("codecs", [])) & set(held_out.get("codecs", []))
            if seen.get("room_rt60_seconds") and held_out.get("room_rt60_seconds"):
                low, high = sorted([seen["room_rt60_seconds"], held_out["room_rt60_seconds"]])
                assert low[1] < high[0]  # the two ranges do not overlap
            if "generators" in seen:
                assert seen["generators"] != held_out["generators"]
    assert run_config.DEV_RT60[1] < min(config.data.augment.room_rt60_seconds)
    assert max(config.data.augment.room_rt60_seconds) < run_config.HELD_OUT_RT60[0]
    assert conditions[DEV_SHIFTED]["noise_kinds"] and conditions[DEV_SHIFTED]["codecs"]
    noise = splits[NOISE_ONLY]
    assert noise.transcripts == [""] * 3 and {s.split(":")[1] for s in noise.sources} <= {"street", "cafe"}
    assert all(a.size >= 2 * 16000 for a in noise.audio)
    dev_noise = splits[DEV_NOISE_ONLY]
    assert dev_noise.transcripts == [""] * 3 and {s.split(":")[1] for s in dev_noise.sources} <= {"rain", "television"}


@requires_fsdd
def test_dev_levels_is_dev_clean_with_a_level_drifting_12_to_24_db(robust):
    _, _, splits = robust
    depths = []
    for clean, drifted in zip(splits["dev_clean"].audio, splits[DEV_LEVELS].audio):
        clean, drifted = clean.astype(np.float64), drifted.astype(np.float64)
        speech = np.abs(clean) > 200  # well above int16 rounding
        gain_db = 20 * np.log10(drifted[speech] / clean[speech])
        assert gain_db.max() <= 0.1  # never louder than dev_clean
        depths.append(gain_db.max() - gain_db.min())
    assert all(6 < depth <= 24.5 for depth in depths), depths  # the speech need not span the curve's ends
    assert max(depths) > 12


def test_level_drift_is_seeded_length_preserving_and_spans_its_depth():
    from rt_keras.data.digits import DEV_LEVEL_DEPTH_DB, level_drift

    tone = np.full(24000, 0.5, np.float32)
    for seed in range(20):
        drifted = level_drift(tone, np.random.default_rng(seed))
        np.testing.assert_array_equal(drifted, level_drift(tone, np.random.default_rng(seed)))
        assert drifted.shape == tone.shape and drifted.dtype == np.float32
        gain_db = 20 * np.log10(drifted / tone)
        assert abs(gain_db.max()) < 1e-4
        assert DEV_LEVEL_DEPTH_DB[0] - 1e-4 <= -gain_db.min() <= DEV_LEVEL_DEPTH_DB[1] + 1e-4
        assert np.abs(np.diff(gain_db)).max() < 0.1  # smooth: no step within a word


@requires_fsdd
def test_every_arm_gets_the_same_development_and_test_splits(robust, tmp_path):
    """An arm that augments differently regenerates its data; only train may differ, so the
    study's comparisons on the other splits are paired utterance by utterance (neural TTS
    voices join training only). Switching dev_shifted on or off adds or removes that split
    and dev_noise_only and changes no other."""
    _, manifest, _ = robust
    without_shifted = [o for o in ROBUST if o != "data.dev_shifted=true"]
    arm = run_config.load(ROOT / "configs" / "tiny.yaml", [
        f"data.cache_dir={tmp_path}", *without_shifted, "data.augment.noise_kinds=[white, babble]",
        "data.augment.eq_probability=0.5", "data.augment.long_pause_probability=0.3",
        "data.augment.noise_only_probability=0.25", "data.augment.word_gain_db=[-20, 0]",
        "data.neural_tts_voices=[hibari:heart]", "data.mix={espeak: 0.1, tts: 0.9, fsdd: 0, fsdd_perturbed: 0}",
        "data.augment.edge_pause_seconds=[0.0, 0.8]", "data.augment.tight_edge_probability=0.3"])
    directory = materialise(arm, progress=False)
    other = read_manifest(directory)
    assert other["splits"]["train"]["sha256"] != manifest["splits"]["train"]["sha256"]
    train = load_split(directory, "train")  # noise-only utterances: no words, a noise source the manifest describes
    noise_only = [i for i, source in enumerate(train.sources) if is_noise_source(source)]
    assert 0 < len(noise_only) < len(train.sources) / 2
    assert [i for i, text in enumerate(train.transcripts) if not text] == noise_only
    assert all(other["sources"][train.sources[i]]["engine"] == "noise" for i in noise_only)
    noise_kinds = {train.sources[i] for i in noise_only}  # the summary counts them apart from the voices
    assert other["splits"]["train"]["noise_kinds"] == len(noise_kinds) >= 1
    assert any(source.startswith("hibari:heart") for source in train.sources)  # the neural voice trains
    assert other["splits"]["train"]["sources"] == len(set(train.sources) - noise_kinds)
    assert set(other["splits"]) == set(manifest["splits"]) - {DEV_SHIFTED, DEV_NOISE_ONLY}
    for name in other["splits"]:
        if name != "train":
            assert other["splits"][name]["sha256"] == manifest["splits"][name]["sha256"], name


@requires_fsdd
def test_neural_voices_join_the_training_pools_and_no_development_one():
    from rt_keras.data.digits import _build_pools

    config = run_config.load(ROOT / "configs" / "tiny.yaml", [*ROBUST, "data.neural_tts_voices=[hibari:heart]"])
    pools = _build_pools(config.data, progress=False, skipped=[])
    for name in ("tts_train", "tts_train_perturbed"):
        assert any(source.startswith("hibari:heart") for source in pools[name].sources()), name
    assert pools["dev_tts"].sources() and not [s for s in pools["dev_tts"].sources() if "hibari" in s]


@requires_fsdd
def test_the_checkpoint_can_be_chosen_on_the_development_splits(robust, tmp_path):
    from rt_keras.backend import keras
    from rt_keras.data.storage import load_splits
    from rt_keras.runs.train import train
    from rt_keras.training.evaluation import evaluate_split

    config, _, splits = robust
    config = run_config.from_dict({**config.to_dict(), "train": {
        **config.to_dict()["train"], "epochs": 1, "steps_per_epoch": 15, "select_on": list(DEV_SPLITS)}})
    pooled = load_splits(data_directory(config), config.train.select_on)
    assert pooled.transcripts == splits["dev_clean"].transcripts + splits["dev_noisy"].transcripts
    metrics = train(config, tmp_path / "run", progress=False)
    assert metrics["selected_on"] == list(DEV_SPLITS)
    shipped = keras.models.load_model(tmp_path / "run" / "model.keras")
    assert metrics["validation_wer"] == evaluate_split(shipped, pooled, config.frontend)["wer"]


def test_selection_splits_are_checked_at_load():
    with pytest.raises(run_config.ConfigError, match="needs the development splits: set data.dev_splits=true"):
        run_config.load(ROOT / "configs" / "tiny.yaml", ["train.select_on=[dev_noisy]"])
    with pytest.raises(run_config.ConfigError, match="data.dev_shifted needs the development splits"):
        run_config.load(ROOT / "configs" / "tiny.yaml", ["data.dev_shifted=true"])
    with pytest.raises(run_config.ConfigError, match="data.dev_levels needs the development splits"):
        run_config.load(ROOT / "configs" / "tiny.yaml", ["data.dev_levels=true"])
    with pytest.raises(run_config.ConfigError, match="needs the dev_shifted split: set data.dev_shifted=true"):
        run_config.load(ROOT / "configs" / "tiny.yaml", ["data.dev_splits=true", "train.select_on=[dev_shifted]"])
    with pytest.raises(run_config.ConfigError, match=r"deader ones for development"):
        run_config.load(ROOT / "configs" / "tiny.yaml", ["data.augment.room_rt60_seconds=[0.1, 0.5]"])
    with pytest.raises(run_config.ConfigError, match=r"train.select_on=\['test_real'\]: expected distinct names"):
        run_config.load(ROOT / "configs" / "tiny.yaml", ["data.dev_splits=true", "train.select_on=[test_real]"])


def test_training_with_every_channel_component_shares_no_condition_with_development_or_test():
    """The manifest's condition records (digits.conditions) with training's rooms and codecs
    switched on: no codec, noise kind or room range of training in dev_shifted or a test split."""
    from rt_keras.data import channels, digits

    codec_groups = [set(run_config.TRAIN_CODECS), set(run_config.DEV_CODECS), set(run_config.HELD_OUT_CODECS)]
    assert sum(map(len, codec_groups)) == len(set.union(*codec_groups)) and set.union(*codec_groups) == set(
        channels.CODECS)
    config = run_config.load(ROOT / "configs" / "tiny.yaml", [
        *ROBUST, "data.augment.codec_probability=0.5", "data.augment.room_probability=0.5",
        f"data.augment.noise_kinds={list(run_config.TRAIN_NOISE_KINDS)}"])
    conditions = digits.conditions(config.data)
    train = conditions["train"]
    assert train["codecs"] and train["room_rt60_seconds"] and len(train["noise_kinds"]) == 6
    for name, record in conditions.items():
        if name in ("train", "dev_noisy"):
            continue
        assert not set(train["noise_kinds"]) & set(record.get("noise_kinds", [])), name
        assert not set(train["codecs"]) & set(record.get("codecs", [])), name
        if record.get("room_rt60_seconds"):
            low, high = sorted([train["room_rt60_seconds"], record["room_rt60_seconds"]])
            assert low[1] < high[0], name
