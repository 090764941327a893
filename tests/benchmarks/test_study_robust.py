"""benchmarks/robust.yaml and the study's selection/extra splits and noise-only scoring
(benchmarks/study.py), without training: the plan, the configs of its arms, the report."""

import pathlib

import numpy as np
import pytest

from benchmarks import study
from rt_keras.core import run_config
from rt_keras.core.splits import DEV_NOISE_ONLY, NOISE_ONLY
from rt_keras.data.storage import Split

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAN = ROOT / "benchmarks" / "robust.yaml"


def test_the_robust_plan_selects_on_development_splits_and_reports_the_held_out_ones():
    plan = study.load_plan(PLAN)
    assert plan["select_splits"] == ["dev_clean", "dev_noisy", "dev_shifted"]
    assert plan["noise_only"] == [DEV_NOISE_ONLY, NOISE_ONLY]
    assert all(s.startswith("test") for s in plan["extra_splits"])
    assert study.evaluated_splits(plan)[-2:] == [DEV_NOISE_ONLY, NOISE_ONLY]
    assert set(study.evaluated_splits(plan)) >= {*study.SPLITS, "dev_clean", "test_real_noisy_10db"}
    assert all(arm["seeds"] == 3 for arm in plan["arms"].values())
    configs = {arm: study.arm_config(plan, arm, 0) for arm in plan["arms"]}
    recipe = configs["recipe"]
    assert recipe.data.augment == type(recipe.data.augment)()  # the recipe augments as today
    # the recipe arm keeps the 6 epochs it was measured with; the long arm is configs/rt.yaml's schedule
    assert recipe.train.epochs == 6
    assert configs["long"].train == run_config.load(ROOT / "configs" / "rt.yaml").train
    for arm, config in configs.items():
        # every arm has the same development and test splits; only the augmentation differs
        for field in ("dev_splits", "dev_utterances", "dev_shifted", "noisy_test_snrs", "channel_test",
                      "noise_only_utterances"):
            assert getattr(config.data, field) == getattr(recipe.data, field), (arm, field)
        assert config.encoder == recipe.encoder
        # only the robust arm chooses its checkpoint on the development splits
        assert config.train.select_on == (["dev_clean", "dev_noisy"] if arm == "robust" else ["validation"]), arm
        # only the ema and long arms change training itself (the average; twice the epochs); the others the data
        assert config.train.ema_momentum == (0.999 if arm == "ema" else 0.0), arm
        assert config.train.epochs == recipe.train.epochs * (2 if arm == "long" else 1), arm
        config.train.select_on, config.train.ema_momentum = recipe.train.select_on, recipe.train.ema_momentum
        config.train.epochs = recipe.train.epochs
        assert config.train == recipe.train, arm
        assert (config.data.augment != recipe.data.augment) == (arm not in ("recipe", "ema", "long")), arm
    names = {f"test_real_noisy_{snr:g}db" for snr in recipe.data.noisy_test_snrs} | {"test_real_channel"}
    assert names == set(plan["extra_splits"])
    assert {claim[1] for claim in plan["claims"]} == set(plan["arms"]) - {"recipe"}


def test_plans_refuse_scoring_the_noise_only_split_as_a_wer(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text("arms:\n  a: {}\nselect_splits: [noise_only]\n")
    with pytest.raises(study.PlanError, match="no words"):
        study.load_plan(path)
    path.write_text("arms:\n  a: {}\nnoise_only: [dev_clean]\n")
    with pytest.raises(study.PlanError, match=r"noise_only=\['dev_clean'\]; expected true, false or a list"):
        study.load_plan(path)
    path.write_text("arms:\n  a: {}\nselect_splits: []\n")
    with pytest.raises(study.PlanError, match="select_splits"):
        study.load_plan(path)
    path.write_text("arms:\n  a: {}\n")
    plan = study.load_plan(path)  # the study's own plans: as before
    assert plan["select_splits"] == list(study.CLAIM_SPLITS) and study.evaluated_splits(plan) == list(study.SPLITS)
    assert study.robustness_table(plan, {}) == []


def test_words_emitted_from_noise_are_counted_per_minute():
    split = Split([np.zeros(16000 * 30, np.int16), np.zeros(16000 * 30, np.int16)], ["", ""], ["n", "n"])
    counted = study.emitted_words(["one two", ""], split)
    assert counted["words_emitted"] == 2 and counted["minutes"] == 1.0 and counted["per_minute"] == 2.0
    assert counted["utterances_with_words"] == 1


def _evaluation(errors, words):
    from rt_keras.core.wer_stats import wer_interval

    return {**wer_interval(errors, words), "utterance_errors": errors, "utterance_words": words}


def test_the_report_decides_claims_on_the_selection_splits_and_tables_the_rest():
    plan = study.load_plan(PLAN)
    results = {}
    for arm, worse in (("recipe", 2), ("noise-real", 0)):
        for seed in range(3):
            per_split = {split: _evaluation([worse if i % 2 else 0 for i in range(40)], [3] * 40)
                         for split in study.evaluated_splits(plan) if split not in (NOISE_ONLY, DEV_NOISE_ONLY)}
            per_split[NOISE_ONLY] = {"per_minute": 1.5 + worse}
            per_split[DEV_NOISE_ONLY] = {"per_minute": 10.25 + worse}
            results.setdefault(arm, {})[seed] = {"keras": per_split, "tflite": per_split}
    table = "\n".join(study.robustness_table(plan, results))
    assert "dev_noisy (selection) Keras" in table and "test_real_noisy_0db Keras" in table
    assert "| noise-real |" in table and "3.50 (seeds: 3.50, 3.50, 3.50)" in table
    assert "words/min from dev_noise_only qat-int8 | words/min from noise_only Keras" in table
    assert "12.25 (seeds: 12.25, 12.25, 12.25)" in table
    pair = study.paired(results, "noise-real", "recipe", "keras", "dev_noisy")
    assert study.verdict("better", pair)[0] == "reproduced"
    del results["noise-real"][2]["keras"]["dev_noisy"]  # a split added after this run: paired over the others
    assert study.paired(results, "noise-real", "recipe", "keras", "dev_noisy")["seeds"] == [0, 1]
    for seed in range(3):
        del results["noise-real"][seed]["keras"]["dev_clean"]
    assert study.paired(results, "noise-real", "recipe", "keras", "dev_clean") is None
