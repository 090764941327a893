"""Bad requests are refused with one line (exit 2) before any work and before any file is
written (issue 32): config values of the wrong kind, NaN, impossible paths, a broken
TF_CONFIG, a missing --init-from run, a damaged model.keras, outputs that cannot be
written, FIFOs, and comparison files that are not evaluations."""

import os

import pytest

from rt_keras.cli import main
from rt_keras.core import run_config
from tests.helpers import ROOT

TINY = ROOT / "configs" / "tiny.yaml"


def _refused(capsys, *args) -> str:
    status = main([str(a) for a in args])
    err = capsys.readouterr().err.strip()
    assert status == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("value, kind", [("5", "int 5"), ("abc", "str 'abc'"), ("[1, 2]", "list [1, 2]")])
def test_a_section_that_is_not_a_mapping_is_refused(capsys, tmp_path, value, kind):
    err = _refused(capsys, "data", "--config", TINY, "--set", f"encoder={value}",
                   "--set", f"data.cache_dir={tmp_path / 'cache'}")
    assert f"encoder: expected a section of FIELD: VALUE entries, got {kind}" in err
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_nan_and_infinities_are_refused(value):
    with pytest.raises(run_config.ConfigError, match="expected a finite number"):
        run_config.load(TINY, [f"qat.learning_rate={value}"])


def test_qat_settings_with_nan_are_refused_before_the_run_config_changes(capsys, tmp_path):
    run_config.save(run_config.load(TINY), tmp_path / "config.yaml")
    before = (tmp_path / "config.yaml").read_text()
    assert "expected a finite number" in _refused(capsys, "qat", tmp_path, "--set", "qat.learning_rate=.nan")
    assert (tmp_path / "config.yaml").read_text() == before


def test_a_path_with_a_nul_is_refused_before_any_data_is_generated(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative cache directory would be made here
    err = _refused(capsys, "data", "--config", TINY, "--set", 'data.cache_dir="a\\0b"')
    assert "data.cache_dir 'a\\x00b' contains a NUL character" in err
    assert list(tmp_path.iterdir()) == []


def test_params_needs_at_least_one_feature(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["params", "--num-features", "0"])
    assert exit_.value.code == 2 and "expected an integer 1..4096, got 0" in capsys.readouterr().err


@pytest.mark.parametrize("tf_config, problem", [
    ("{bad", "TF_CONFIG is not JSON"),
    ('{"cluster": {"worker": "host:1"}}', 'needs a "cluster" of host lists'),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}', "is not a (type, index)"),
])
def test_a_broken_tf_config_is_refused_and_leaves_no_run_directory(capsys, tmp_path, monkeypatch, tf_config, problem):
    monkeypatch.setenv("TF_CONFIG", tf_config)
    err = _refused(capsys, "train", "--config", TINY, "--strategy", "multi_worker", "--out", tmp_path / "run")
    assert problem in err
    assert not (tmp_path / "run").exists()


def test_a_missing_init_run_is_refused_and_leaves_no_run_directory(capsys, tmp_path):
    err = _refused(capsys, "train", "--config", TINY, "--init-from", tmp_path / "nowhere", "--out", tmp_path / "run")
    assert "is not a finished run directory" in err
    assert not (tmp_path / "run").exists()


def test_train_refuses_an_output_that_is_a_file(capsys, tmp_path):
    (tmp_path / "run").write_text("")
    assert "run directory" in _refused(capsys, "train", "--config", TINY, "--out", tmp_path / "run")


def test_a_damaged_model_keras_is_named_in_one_line(capsys, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    run_config.save(run_config.load(TINY), run / "config.yaml")
    (run / "model.keras").write_bytes(b"PK\x03\x04 truncated")
    (run / "vocabulary.txt").write_text("<blank>\nzero\n")
    assert "model.keras: cannot load the model" in _refused(capsys, "convert", run, "--out", tmp_path / "m.tflite")
    assert "model.keras: cannot load the model" in _refused(capsys, "evaluate", run)
    assert not (tmp_path / "m.tflite").exists() and not (run / "evaluation.json").exists()


@pytest.mark.parametrize("command", ["evaluate", "pipeline"])
@pytest.mark.parametrize("content, problem", [(None, "does not exist"), ("{x", "not JSON"), ("[1]", "expected {split")])
def test_a_comparison_file_is_refused_before_any_work(capsys, tmp_path, content, problem, command):
    against = tmp_path / "other.json"
    if content is not None:
        against.write_text(content)
    run = ["--config", TINY, "--set", f"data.cache_dir={tmp_path / 'cache'}", "--out"] if command == "pipeline" else []
    err = _refused(capsys, command, *run, tmp_path / "no-run", "--against", against)
    assert problem in err
    assert list(tmp_path.iterdir()) == ([against] if content is not None else [])


def test_outputs_and_inputs_of_the_wrong_kind_are_refused(capsys, tmp_path):
    model = ROOT.parent / "shared" / "fuzz" / "0493_overwrite_random.tflite"  # any model file will do
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "fifo.wav")
    (tmp_path / "file").write_text("")
    assert "is a directory; give a file name" in _refused(capsys, "dedup", model, tmp_path / "dir")
    assert "input model" in _refused(capsys, "dedup", tmp_path / "dir", tmp_path / "out.tflite")
    assert "is not a directory" in _refused(capsys, "dedup", model, tmp_path / "file" / "out.tflite")
    assert "--report" in _refused(capsys, "footprint", "--static", "--report", tmp_path / "file", model)
    status = main(["transcribe", str(model), str(tmp_path / "fifo.wav")])
    assert status == 1 and "is a named pipe (FIFO)" in capsys.readouterr().err
