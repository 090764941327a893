"""The pipeline (rt_keras.runs.pipeline) chains the steps and skips
finished ones, and evaluation of a .tflite refuses damaged files before loading them
(QAT settings: tests/test_run_config.py)."""

import json
import pathlib
import re
import shutil

from converters.metadata import read_metadata
from rt_keras.cli import main
from rt_keras.core.splits import TEST_SPLITS
from rt_keras.data.storage import data_directory, load_split
from rt_keras.runs.run_dir import RunDir
from rt_keras.training.evaluation import evaluate_split
from tests.helpers import requires_fsdd

ROOT = pathlib.Path(__file__).resolve().parents[2]
pytestmark = requires_fsdd


def _cli(capsys, *args):
    status = main([str(a) for a in args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_pipeline_skips_finished_steps_converts_and_evaluates_the_tflite(tiny_qat_run, tiny_config, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(tiny_qat_run, run)
    trained = (run / "model.keras").read_bytes()
    status, out, err = _cli(capsys, "pipeline", "--config", ROOT / "configs" / "tiny.yaml",
                            "--set", f"data.cache_dir={tiny_config.data.cache_dir}", "--out", run)
    assert status == 0, err
    assert re.findall(r"== rt-keras pipeline: (.+)", out) == [
        "data", "train", "evaluate", "qat", "convert", "evaluate the .tflite"]
    assert f"{run}: training already finished" in err
    assert f"{run / 'qat'}: 8-bit quantisation-aware training already finished" in err
    assert (run / "model.keras").read_bytes() == trained  # not trained again
    assert (run / "model-qat-int8.tflite").read_bytes()[4:8] == b"TFL3"
    evaluation = json.loads((run / "model-qat-int8.tflite.evaluation.json").read_text())
    assert list(evaluation) == list(TEST_SPLITS)
    for name in TEST_SPLITS:
        kinds = [evaluation[name][kind] for kind in ("substitutions", "deletions", "insertions")]
        assert sum(kinds) == evaluation[name]["errors"], name
        words, kinds = evaluation[name]["words"], "/".join(map(str, kinds))
        assert re.search(rf"(?m)^{name}\s+\d+\s+{words}\s+.*\s{kinds}$", out), name  # the line ends sub/del/ins
        assert re.search(rf"\n{name}\s+[+-]\d+\.\d\d\s+\[.+\]\s+(inside noise|A better|B better)", out), name

    # again: every step finished, the .tflite is kept
    stamp = (run / "model-qat-int8.tflite").stat().st_mtime_ns
    status, out, err = _cli(capsys, "pipeline", "--config", ROOT / "configs" / "tiny.yaml",
                            "--set", f"data.cache_dir={tiny_config.data.cache_dir}", "--out", run)
    assert status == 0 and "model-qat-int8.tflite exists; use --force to convert again" in err
    assert (run / "model-qat-int8.tflite").stat().st_mtime_ns == stamp


def test_evaluate_tflite_refuses_missing_foreign_and_damaged_files_in_one_line(tiny_run, tmp_path, capsys):
    text = tmp_path / "notes.tflite"
    text.write_text("not a model")
    status, out, err = _cli(capsys, "evaluate", tiny_run, "--tflite", tmp_path / "missing.tflite")
    assert status == 2 and "missing.tflite" in err and len(err.strip().splitlines()) == 1
    status, out, err = _cli(capsys, "evaluate", tiny_run, "--tflite", text)
    assert status == 2 and err.startswith(f"rt-keras evaluate: {text}: ") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "notes.tflite.evaluation.json").exists()



def test_pipeline_streaming_fine_tunes_a_chunked_run_and_ships_its_streaming_step(tiny_run, tiny_config, tmp_path,
                                                                                   capsys):
    """What `make demo` does for the live app: a chunked look-ahead run started from the full
    run, its QAT, the streaming qat-int8 file, evaluated chunk by chunk."""
    common = ["--config", ROOT / "configs" / "tiny.yaml", "--set", f"data.cache_dir={tiny_config.data.cache_dir}"]
    status, out, err = _cli(capsys, "pipeline", *common, "--streaming", "--out", tmp_path / "refused")
    assert status == 2 and "--streaming needs a chunked encoder (set encoder.chunk_frames" in err
    assert not (tmp_path / "refused" / "config.yaml").exists()
    status, out, err = _cli(capsys, "pipeline", *common, "--set", "encoder.chunk_frames=3", "--set",
                            "frontend.leading_silence_seconds=0.1", "--streaming", "--out", tmp_path / "refused")
    assert status == 2 and "the streaming step has no leading silence" in err and "leading_silence_seconds=0" in err
    assert not (tmp_path / "refused" / "config.yaml").exists()

    run = tmp_path / "stream"
    chunked = ["encoder.chunk_frames=3", "encoder.left_context_frames=4", "encoder.lookahead_frames=1",
               f"train.init_from={tiny_run}", "train.epochs=1", "train.steps_per_epoch=4", "qat.steps_per_epoch=4"]
    against = tmp_path / "whole-utterance.json"  # stands in for the full run's qat-int8 file's evaluation
    model, data = RunDir(tiny_run).load_model(), data_directory(tiny_config)
    against.write_text(json.dumps({split: evaluate_split(model, load_split(data, split), tiny_config.frontend)
                                   for split in TEST_SPLITS}))
    status, out, err = _cli(capsys, "pipeline", *common, *[a for s in chunked for a in ("--set", s)], "--streaming",
                            "--out", run, "--against", against)
    assert status == 0, err
    compared = out.split(f"this model (A) vs {against} (B), paired bootstrap over the same utterances:")[1]
    assert all(re.search(rf"^{split} +[+-]\d+\.\d\d +\[", compared, re.M) for split in TEST_SPLITS), compared
    tflite = run / "model-streaming-qat-int8.tflite"
    layout = read_metadata(tflite.read_bytes())["info"]["streaming"]
    assert (layout["chunk_frames"], layout["lookahead_frames"]) == (3, 1)
    assert not (run / "model-qat-int8.tflite").exists()
    evaluation = json.loads((run / "model-streaming-qat-int8.tflite.evaluation.json").read_text())
    assert list(evaluation) == list(TEST_SPLITS) and all(evaluation[s]["words"] > 0 for s in TEST_SPLITS)
    assert f"everything is in {run}/" in out and "model-streaming-qat-int8.tflite (int8" in out


def test_a_finished_run_asked_for_with_another_config_is_kept_with_a_warning(tiny_run, tiny_config, tmp_path,
                                                                             caplog):
    """After a recipe change (e.g. configs/rt.yaml's epochs), `make demo` over an earlier
    runs/rt must say that the run it keeps was trained otherwise."""
    import copy
    import logging

    from rt_keras.runs.train import train

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    trained = (run / "model.keras").read_bytes()
    same = copy.deepcopy(tiny_config)
    same.train.epochs = 2  # as tiny_run was trained
    with caplog.at_level(logging.WARNING, logger="rt_keras"):
        assert train(same, run, progress=False)["finished"]
    assert "trained with another config" not in caplog.text
    other = copy.deepcopy(same)
    other.train.epochs, other.encoder.rank = 3, same.encoder.rank + 1
    with caplog.at_level(logging.WARNING, logger="rt_keras"):
        assert train(other, run, progress=False)["finished"]
    assert (run / "model.keras").read_bytes() == trained  # kept, not trained again
    assert (f"{run} was trained with another config (encoder.rank: {same.encoder.rank} -> {other.encoder.rank}; "
            "train.epochs: 2 -> 3)") in caplog.text
