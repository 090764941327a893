"""Leave-one-speaker-out: a reused fold is evaluated on its held-out speaker's data even when
that run's data was generated in another checkout's cache."""

import json
import pathlib
import shutil

from benchmarks import speaker_cv
from rt_keras.data.storage import data_directory, load_split
from rt_keras.runs.run_dir import RunDir
from rt_keras.training.evaluation import evaluate_split

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_a_reused_fold_is_evaluated_when_its_data_lives_in_another_cache(tiny_config, tiny_run, tmp_path):
    reused = shutil.copytree(tiny_run, tmp_path / "demo-run")  # the fold writes its result into the run
    empty_cache = tmp_path / "cache"
    runs = tmp_path / "folds"
    speaker_cv.main(["--config", str(ROOT / "configs" / "tiny.yaml"), "--set", f"data.cache_dir={empty_cache}",
                     "--runs", str(runs), "--only", "theo", "--reuse", f"theo={reused}"])

    fold = json.loads((runs / "speaker_cv.json").read_text())["folds"]["theo"]
    expected = evaluate_split(RunDir(tiny_run).load_model(), load_split(data_directory(tiny_config), "test_real"),
                              tiny_config.frontend)
    assert fold["speaker"] == "theo" and fold["run_dir"] == str(reused)
    assert fold["test_real"]["utterances"] == tiny_config.data.test_real_utterances
    assert fold["test_real"]["words"] == expected["words"] > 0
    assert fold["test_real"]["utterance_errors"] == expected["utterance_errors"]
    assert [path.name for path in empty_cache.iterdir()] == [data_directory(tiny_config).name]
