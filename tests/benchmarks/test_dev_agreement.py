"""benchmarks/dev_agreement.py on made-up study results: the verdicts and the agreement count."""

from benchmarks import dev_agreement, study
from rt_keras.core.wer_stats import wer_interval

PLAN = """arms:
  recipe: {}
  helps-dev-only: {}
  helps-everywhere: {}
  unfinished: {}
select_splits: [dev_clean, dev_shifted]
extra_splits: [test_real_noisy_10db]
noise_only: [dev_noise_only, noise_only]
"""


def _evaluation(errors_per_utterance):
    errors, words = [errors_per_utterance if i % 2 else 0 for i in range(60)], [3] * 60
    return {**wer_interval(errors, words), "utterance_errors": errors, "utterance_words": words}


def _run(errors: dict, default: int = 2) -> dict:
    splits = ["dev_clean", "dev_shifted", *study.SPLITS, "test_real_noisy_10db"]
    per_split = {split: _evaluation(errors.get(split, default)) for split in splits}
    for noise in ("dev_noise_only", "noise_only"):
        per_split[noise] = {"per_minute": 10.0 * errors.get(noise, default)}
    return {"keras": per_split, "tflite": per_split}


def test_verdicts_and_agreement_with_the_held_out_splits(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(PLAN)
    plan = study.load_plan(path)
    held_out = dev_agreement.held_out_splits(plan)
    assert held_out == [*study.SPLITS, "test_real_noisy_10db"]
    results = {"recipe": {s: _run({}) for s in range(3)},
               # better on both development splits, worse on every held-out split
               "helps-dev-only": {s: _run({"dev_clean": 0, "dev_shifted": 0}, default=3) for s in range(3)},
               # better everywhere but dev_clean, where it is the recipe's equal
               "helps-everywhere": {s: _run({"dev_clean": 2}, default=0) for s in range(3)},
               "unfinished": {0: {"keras": {}, "tflite": {}}}}
    compared = dev_agreement.comparisons(plan, results, "recipe", "tflite")
    assert set(compared) == {"helps-dev-only", "helps-everywhere"}  # no split evaluated: left out
    assert compared["helps-dev-only"]["dev_shifted"]["verdict"] == "better"
    assert compared["helps-dev-only"]["test_real"]["verdict"] == "worse"
    assert compared["helps-everywhere"]["dev_clean"]["verdict"] == "noise"
    assert compared["helps-everywhere"]["test_real_noisy_10db"]["verdict"] == "better"
    # four held-out splits. dev_clean: better where helps-dev-only is worse (4 opposite), noise where
    # helps-everywhere is better (4 with one side in noise); dev_shifted: 4 opposite and 4 the same
    assert dev_agreement.agreement(compared, plan) == {
        "dev_clean": {"same": 0, "opposite": 4, "noise": 0, "total": 8},
        "dev_shifted": {"same": 4, "opposite": 4, "noise": 0, "total": 8}}
    text = dev_agreement.table(plan, compared, "recipe", "tflite", "python -m benchmarks.dev_agreement ...")
    assert "| dev_shifted | 4 | 4 | 0 | 0 | 8 |" in text and "| dev_clean | 0 | 4 | 0 | 4 | 8 |" in text
    assert "| helps-dev-only | -" in text and "**worse**" in text
    noise = dev_agreement.words_from_noise(plan, results, "recipe", "tflite")
    assert noise["helps-dev-only"] == {"dev_noise_only": [10.0] * 3, "noise_only": [10.0] * 3}
    assert noise["helps-everywhere"]["noise_only"] == [-20.0] * 3 and noise["unfinished"]["noise_only"] == []
    text = dev_agreement.table(plan, compared, "recipe", "tflite", "...", noise)
    assert "| helps-everywhere | -20.0, -20.0, -20.0 | -20.0, -20.0, -20.0 |" in text
    assert "| unfinished |" not in text
