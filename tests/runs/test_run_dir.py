"""RunDir owns the run directory's file names and the lifecycle every step shares."""

import json

import pytest

from rt_keras.core import run_config
from rt_keras.runs.run_dir import RunDir, trained
from tests.helpers import ROOT


def test_every_file_name_has_one_owner(tmp_path):
    run = RunDir(tmp_path)
    assert (run.config.name, run.model.name, run.metrics.name, run.evaluation.name) == (
        "config.yaml", "model.keras", "metrics.json", "evaluation.json")
    assert run.qat.weights == tmp_path / "qat" / "model.weights.h5"
    assert run.qat.best_weights == tmp_path / "qat" / "checkpoints" / "best.weights.h5"
    assert run.tflite("qat-int8") == tmp_path / "model-qat-int8.tflite"
    assert RunDir.evaluation_of(run.tflite("int4")) == tmp_path / "model-int4.tflite.evaluation.json"
    assert run.worker(2).metrics == tmp_path / "worker-2" / "metrics.json"


def test_an_unfinished_run_is_refused_with_the_command_that_trains_it(tmp_path):
    (tmp_path / "config.yaml").write_text("name: x\n")  # no model.keras yet
    with pytest.raises(FileNotFoundError, match=r"needs model.keras and config.yaml\); train first: rt-keras train"):
        trained(tmp_path)


def test_only_a_finished_step_is_skipped(tmp_path):
    run = RunDir(tmp_path)
    assert run.finished_metrics("training") is None
    run.metrics.write_text(json.dumps({"finished": False}))
    assert run.finished_metrics("training") is None
    run.metrics.write_text(json.dumps({"finished": True, "validation_wer": 0.1}))
    assert run.finished_metrics("training")["validation_wer"] == 0.1


def test_a_forced_step_forgets_its_resume_state_and_saves_the_config(tmp_path):
    config = run_config.load(ROOT / "configs" / "tiny.yaml")
    step = RunDir(tmp_path / "qat")
    step.backup.mkdir(parents=True)
    step.best_weights.parent.mkdir(parents=True)
    step.history.write_text("epoch,loss\n0,1.0\n")
    step.start_step(config, force=False, seed=0)
    assert step.backup.is_dir() and step.history.is_file()  # resumable
    step.start_step(config, force=True, seed=0)
    assert not step.backup.exists() and not step.best_weights.parent.exists() and not step.history.exists()
    saved = step.load_config()
    assert (saved.encoder, saved.train, saved.qat) == (config.encoder, config.train, config.qat)
