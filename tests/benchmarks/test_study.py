"""The study's machinery on the tiny config (benchmarks/study.py): two arms, one seed,
an interrupted training that resumes, cached stages, the report. Not its numbers."""

import csv
import json
import pathlib

import pytest

from benchmarks import study
from rt_keras.core import run_config
from rt_keras.core.wer_stats import paired_bootstrap
from tests.helpers import InterruptAfterEpoch

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def plan_file(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(f"""
base: {ROOT / 'configs' / 'tiny.yaml'}
seeds: 1
arms:
  baseline: {{set: [encoder.group_size=1, encoder.rank=0, encoder.diagonal=false]}}
  rt-k3-r16: {{set: []}}
  compress-k3-r16: {{compress: {{source: baseline, group_size: 2, rank: 4, diagonal: true}}, set: [train.epochs=1]}}
""")
    return path


def test_plan_rejects_bad_arms(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text("arms:\n  a: {seeds: 0}\n")
    with pytest.raises(study.PlanError, match=r"arms.a.seeds=0"):
        study.load_plan(path)
    path.write_text("arms:\n  a: {compress: {source: b}}\n  b: {}\n")
    with pytest.raises(study.PlanError, match="expected an arm listed before it"):
        study.load_plan(path)
    path.write_text("arms:\n  a: {}\n  b: {init: c}\n")
    with pytest.raises(study.PlanError, match=r"arms.b.init='c'; expected an arm listed before it"):
        study.load_plan(path)
    path.write_text("arms:\n  a: {}\nqat_int4: [a, c]\n")
    with pytest.raises(study.PlanError, match=r"qat_int4=\['a', 'c'\]; expected true, false or a list"):
        study.load_plan(path)
    path.write_text("arms:\n  a: {}\n  b: {}\nqat_int4: true\n")
    assert study.load_plan(path)["qat_int4"] == ["a", "b"]


def test_a_plan_may_state_its_own_claims_with_a_margin(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text("arms:\n  a: {}\n  b: {}\nclaims:\n  - {claim: A is close, a: a, b: b, kind: within, margin: 2}\n")
    assert study.load_plan(path)["claims"] == [("A is close", "a", "b", "within", 0.02)]
    assert study.load_plan(ROOT / "benchmarks" / "study.yaml")["claims"] == study.CLAIMS
    streaming = study.load_plan(ROOT / "benchmarks" / "streaming.yaml")
    assert [claim[1:] for claim in streaming["claims"]] == [("rt-k3-r16-chunk320", "rt-k3-r16", "within", 0.02)]
    pair = {"difference": 0.015, "ci95": [0.005, 0.019], "per_seed": [0.012, 0.018], "seeds": [0, 1]}
    assert study.verdict("within", pair, 0.02)[0] == "reproduced" and study.verdict("within", pair)[0] == "inconclusive"
    for bad in ("{claim: x, a: a, b: c, kind: within}", "{claim: x, a: a, b: b, kind: similar}", "nonsense"):
        path.write_text(f"arms:\n  a: {{}}\n  b: {{}}\nclaims:\n  - {bad}\n")
        with pytest.raises(study.PlanError, match=r"claims\[0\]="):
            study.load_plan(path)


def test_the_real_plan_orders_seed_zero_of_every_arm_first():
    plan = study.load_plan(ROOT / "benchmarks" / "study.yaml")
    order = study.jobs(plan)
    arms = list(plan["arms"])
    assert order[:len(arms)] == [(arm, 0) for arm in arms]
    assert order.count(("baseline", 2)) == 1 and ("albert-k3", 2) not in order
    assert len(order) == sum(arm["seeds"] for arm in plan["arms"].values()) == 20
    # dense-small is the equal-size dense arm: its encoder is within 5% of rt-k3-r16's
    from rt_keras.model.params import accounting
    params = {
        arm: accounting(study.arm_config(plan, arm, 0).encoder)["encoder_params"]
        for arm in ("dense-small", "rt-k3-r16")
    }
    assert abs(params["dense-small"] / params["rt-k3-r16"] - 1) < 0.05


def test_study_resumes_an_interrupted_run_and_reports(tiny_config, plan_file, tmp_path):
    runs, doc = tmp_path / "runs", tmp_path / "docs" / "study.md"
    overrides = [f"data.cache_dir={tiny_config.data.cache_dir}"]
    plan = study.load_plan(plan_file)
    with pytest.raises(KeyboardInterrupt):
        study.run_job(plan, "baseline", 0, runs, overrides, progress=False, extra_callbacks=[InterruptAfterEpoch(0)])
    baseline_dir = runs / "baseline" / "seed-0"
    assert not (baseline_dir / "study_run.json").exists() and not (baseline_dir / "model.keras").exists()

    args = ["--plan", str(plan_file), "--runs", str(runs), "--doc", str(doc)] + [
        item for o in overrides for item in ("--set", o)
    ]
    assert study.main(args) == 0
    with open(baseline_dir / "history.csv") as handle:
        epochs = [int(row["epoch"]) for row in csv.DictReader(handle)]
    assert epochs == [0, 1]  # resumed at epoch 2, not started over
    results = study.collect(plan, runs)
    assert set(results) == {"baseline", "rt-k3-r16", "compress-k3-r16"}
    compressed = results["compress-k3-r16"][0]
    assert compressed["init_from"] == "compress-k3-r16/seed-0/init" and compressed["steps"] == 5
    assert compressed["encoder"] == results["rt-k3-r16"][0]["encoder"]
    rt = results["rt-k3-r16"][0]
    assert rt["encoder"]["group_size"] == 2 and rt["tflite"]["test_real"]["words"] > 0
    assert rt["encoder_params"] < results["baseline"][0]["encoder_params"]
    assert (runs / "rt-k3-r16" / "seed-0" / study.TFLITE).stat().st_size == rt["qat_int8_bytes"]

    text = doc.read_text()
    assert "| baseline | 1 |" in text and "| rt-k3-r16 | 1 |" in text
    int4 = json.loads((runs / "measurements.json").read_text())["int4"]
    assert set(int4) == {"baseline", "rt-k3-r16", "compress-k3-r16"}
    assert int4["rt-k3-r16"]["test_real"]["words"] == rt["keras"]["test_real"]["words"]
    assert f"| {int4['rt-k3-r16']['bytes']:,} |" in text
    claim = next(line for line in text.splitlines() if line.startswith("| RT costs only") and "test_real |" in line)
    assert any(word in claim for word in ("**reproduced**", "**contradicted**", "**inconclusive**"))
    assert "| compress-k3-r16 | 1 |" in text
    assert "RT beats ALBERT" in text and "not run yet" in text  # arms this plan does not have
    assert (doc.parent / "study" / "pareto.png").stat().st_size > 10_000
    assert json.loads((doc.parent / "study" / "rt-k3-r16" / "seed-0.json").read_text()) == rt
    measured = json.loads((runs / "measurements.json").read_text())
    assert measured["arms"] == ["baseline", "rt-k3-r16", "compress-k3-r16"]
    assert all(m["status"] == "ok" and m["latency_ms"]["median"] > 0 for m in measured["footprint"].values())

    # a second call trains nothing and measures nothing again
    stamps = {p: p.stat().st_mtime_ns for p in (runs / "measurements.json", baseline_dir / "study_run.json")}
    assert study.main(args) == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert "4-bit QAT" not in doc.read_text()

    # a plan that asks for the qat-int4 column later gets the 4-bit stage alone, nothing trained again
    plan_file.write_text(plan_file.read_text() + "qat_int4: [rt-k3-r16]\n")
    weights = baseline_dir / "model.keras"
    trained = weights.stat().st_mtime_ns
    assert study.main(args) == 0
    assert weights.stat().st_mtime_ns == trained
    rt = json.loads((runs / "rt-k3-r16" / "seed-0" / "study_run.json").read_text())
    assert "qat_int4" not in json.loads((baseline_dir / "study_run.json").read_text())  # not listed: not run
    assert rt["qat_int4_bytes"] == (runs / "rt-k3-r16" / "seed-0" / study.QAT4_TFLITE).stat().st_size
    for split in study.SPLITS:
        assert rt["qat_int4"][split]["utterance_words"] == rt["tflite"][split]["utterance_words"]
    section = doc.read_text().split("## 4-bit QAT files (qat-int4)")[1]
    row = next(line for line in section.splitlines() if line.startswith("| rt-k3-r16 | 1 | "))
    assert f"{rt['qat_int4_bytes']:,} ({rt['qat_int4_bytes'] / rt['qat_int8_bytes']:.2f}x)" in row
    for split in study.CLAIM_SPLITS:  # the difference is qat-int4 against this run's qat-int8 file
        difference = paired_bootstrap(rt["qat_int4"][split]["utterance_errors"],
                                      rt["tflite"][split]["utterance_errors"], rt["tflite"][split]["utterance_words"])
        per_seed = 100 * (rt["qat_int4"][split]["wer"] - rt["tflite"][split]["wer"])
        assert f"{100 * difference['difference']:+.2f} [{100 * difference['ci95'][0]:+.2f}, " \
               f"{100 * difference['ci95'][1]:+.2f}] ({per_seed:+.2f})" in row

    # a plan that adds a development split later gets the finished models evaluated on it, nothing trained again
    plan_file.write_text(plan_file.read_text() + "set: [data.dev_splits=true, data.dev_utterances=4, "
                         "data.dev_shifted=true]\nextra_splits: [dev_shifted]\n")
    cached = baseline_dir / "evaluation.json"  # a marked cached evaluation shows it is kept, not redone
    evaluations = json.loads(cached.read_text())
    cached.write_text(json.dumps({**evaluations, "test_real": {**evaluations["test_real"], "marker": "cached"}}))
    assert study.main(args) == 0
    assert weights.stat().st_mtime_ns == trained
    assert json.loads((baseline_dir / "study_run.json").read_text())["keras"]["test_real"]["marker"] == "cached"
    for arm in ("baseline", "rt-k3-r16"):
        run = json.loads((runs / arm / "seed-0" / "study_run.json").read_text())
        for kind in ("keras", "tflite"):
            assert run[kind]["dev_shifted"]["words"] > 0 and len(run[kind]["dev_shifted"]["utterance_words"]) == 4
    assert "dev_shifted Keras" in doc.read_text()


def test_verdicts_follow_the_interval_and_every_seed():
    pair = {"difference": -0.02, "ci95": [-0.03, -0.01], "per_seed": [-0.02, -0.01], "seeds": [0, 1]}
    assert study.verdict("better", pair)[0] == "reproduced"
    assert study.verdict("worse", pair)[0] == "contradicted"
    decided, settle = study.verdict("better", {**pair, "per_seed": [-0.03, 0.001]})
    assert decided == "inconclusive" and settle.startswith("a seed disagrees (-3.00, +0.10)")
    wide = {"difference": -0.005, "ci95": [-0.015, 0.005], "per_seed": [-0.005], "seeds": [0]}
    decided, settle = study.verdict("better", wide)
    assert decided == "inconclusive" and settle.startswith("~4 seeds")  # (0.01 / 0.005)^2 x 1
    assert study.verdict("within", {**wide, "difference": 0.005, "ci95": [0.0, 0.009]})[0] == "reproduced"
    # a seed beyond the margin keeps "within" from being reproduced, as for the other claims
    assert (
        study.verdict("within", {**wide, "difference": 0.005, "ci95": [0.0, 0.009], "per_seed": [0.013, -0.003]})[0]
        == "inconclusive"
    )
    assert study.verdict("within", {**wide, "difference": 0.03, "ci95": [0.02, 0.04]})[0] == "contradicted"
    assert study.verdict("either", pair)[0] == "A is better"


def test_the_plans_keep_the_epochs_their_documents_measured():
    """configs/rt.yaml trains 12 epochs since issue 31; the plans measured at 6 pin 6, so that
    re-running one reproduces its report instead of training every arm at the new schedule."""
    expected_12 = {"study.yaml": set(), "streaming.yaml": set(), "robust.yaml": {"long"},
                   "streaming_long.yaml": {"rt-k3-r16-e12", "rt-k3-r16-chunk320-e12"}, "noise_only.yaml": set(),
                   "noise_kinds.yaml": {"recipe-12", "noise-real-12", "noise-real-no-babble-12", "recipe-levels-12",
                                        "noise-real-levels-12", "noise-real-levels-alone-12"},
                   "neural_voices.yaml": {"noise-real-levels-12", "neural-voices-12"},
                   "isolated.yaml": {"noise-real-levels-12", "edges-12", "tight-edges-12", "lead-silence-12"}}
    for name, twelve in expected_12.items():
        plan = study.load_plan(ROOT / "benchmarks" / name)
        for arm in plan["arms"]:
            epochs = study.arm_config(plan, arm, 0).train.epochs
            assert epochs == (12 if arm in twelve else 2 if arm.startswith("compress") else 6), (name, arm)


def test_the_plans_keep_the_noise_recipe_their_documents_measured():
    """configs/rt.yaml adds real-world noise kinds and per-word levels since issue 31; every plan
    pins the white/brown recipe it measured, so only the arms that set their own kinds or levels
    differ from it, and the arm the recipe was adopted from trains exactly configs/rt.yaml."""
    for path in sorted((ROOT / "benchmarks").glob("*.yaml")):
        if "arms:" not in path.read_text():
            continue  # not a study plan
        plan = study.load_plan(path)
        for arm in plan["arms"]:
            augment = study.arm_config(plan, arm, 0).data.augment
            own = " ".join(plan["arms"][arm]["set"])
            if "noise_kinds" not in own:
                assert augment.noise_kinds == ["white", "brown"], (path.name, arm)
            if "word_gain_db" not in own:
                assert augment.word_gain_db == [0.0, 0.0], (path.name, arm)
    kinds = study.load_plan(ROOT / "benchmarks" / "noise_kinds.yaml")
    adopted = study.arm_config(kinds, "noise-real-levels-12", 0)
    shipped = run_config.load(ROOT / "configs" / "rt.yaml", ["name=noise-real-levels-12", "train.seed=0"])
    assert adopted.to_dict()["train"] == shipped.to_dict()["train"]
    assert adopted.to_dict()["data"]["augment"] == shipped.to_dict()["data"]["augment"]
    assert adopted.data.augment.word_gain_db == [-20, 0]


def test_the_plans_keep_the_front_end_their_documents_measured():
    """configs/rt.yaml puts 0.1 s of silence before the model's input since issue 31; every plan
    measured without it pins 0 (its finished and interrupted runs stay that model), and the arm
    the silence was adopted from builds exactly configs/rt.yaml's front-end."""
    shipped = run_config.load(ROOT / "configs" / "rt.yaml")
    assert shipped.frontend.leading_silence_seconds == 0.1
    for path in sorted((ROOT / "benchmarks").glob("*.yaml")):
        if "arms:" not in path.read_text():
            continue  # not a study plan
        plan = study.load_plan(path)
        for arm in plan["arms"]:
            frontend = study.arm_config(plan, arm, 0).frontend
            if (path.name, arm) == ("isolated.yaml", "lead-silence-12"):
                assert frontend == shipped.frontend
            else:
                assert frontend.leading_silence_seconds == 0, (path.name, arm)


def test_plans_that_share_a_runs_directory_train_the_same_recipe():
    """benchmarks/noise_kinds.yaml reuses noise_only.yaml's recipe runs (--runs runs/noise-only):
    valid only while both plans give that arm the same configuration, seed by seed."""
    only, kinds = (study.load_plan(ROOT / "benchmarks" / name) for name in ("noise_only.yaml", "noise_kinds.yaml"))
    for seed in range(3):
        assert study.arm_config(only, "recipe", seed).to_dict() == study.arm_config(kinds, "recipe", seed).to_dict()
