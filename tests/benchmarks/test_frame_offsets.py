"""benchmarks/frame_offsets.py: N samples in front of every utterance, scored per offset and
written where benchmarks.pooled_compare can pair two offsets."""

import dataclasses
import json
import shutil

import numpy as np

from benchmarks import frame_offsets
from rt_keras.data.storage import data_directory, load_split
from rt_keras.runs.run_dir import RunDir
from rt_keras.training.evaluation import evaluate_split


def test_offsets_are_scored_per_split_and_written_for_pairing(tiny_run, tiny_config, tmp_path, capsys):
    run = shutil.copytree(tiny_run, tmp_path / "run")  # the shared run's directory stays as it is
    assert frame_offsets.main([str(run), "--splits", "test_real", "test_synthetic", "--offsets", "0", "800"]) == 0
    out = capsys.readouterr().out
    assert out.count(f"{run} ") == 2 and "test_synthetic" in out
    written = {n: json.loads((run / "frame_offsets" / f"zeros-{n}.json").read_text()) for n in (0, 800)}
    assert all(set(w) == {"test_real", "test_synthetic"} for w in written.values())
    model, split = RunDir(run).load_model(), load_split(data_directory(tiny_config), "test_real")
    padded = dataclasses.replace(split, audio=[np.concatenate([np.zeros(800, a.dtype), a]) for a in split.audio])
    for offset, expected in ((0, split), (800, padded)):
        errors = evaluate_split(model, expected, tiny_config.frontend)["utterance_errors"]
        assert written[offset]["test_real"]["utterance_errors"] == errors and len(errors) == len(split) > 0
