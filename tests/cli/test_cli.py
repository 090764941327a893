"""The command line refuses bad requests before any long work: exit status 2 and one
line naming the argument, field or file."""

import pathlib

import pytest

from rt_keras.cli import main
from tests.helpers import requires_fsdd

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv,message", [
    (["params", "--num-layers", "100000"], "num_layers=100000; expected at most 256"),
    (["params", "--d-model", "65536"], "d_model=65536; expected at most 8,192"),
    (["params", "--num-layers", "200", "--d-model", "4096"], "at most 1,000,000,000 are built here"),
    (["footprint", "m.tflite", "--runs", "0"], "--runs: expected an integer >= 1, got 0"),
    (["footprint", "m.tflite", "--threads", "0"], "--threads: expected an integer 1..64, got 0"),
    (["footprint", "m.tflite", "--seconds", "nan"], "--seconds: expected seconds in (0, 600], got nan"),
    (["footprint", "m.tflite", "--seconds", "inf"], "--seconds: expected seconds in (0, 600], got inf"),
    (["footprint", "m.tflite", "--seconds", "0"], "--seconds: expected seconds in (0, 600], got 0"),
    (["footprint", "m.tflite", "--warmup", "-1"], "--warmup: expected an integer >= 0, got -1"),
    (["transcribe", "m.tflite", "a.wav", "--threads", "x"], "--threads: expected an integer, got 'x'"),
    (["convert", "no-run", "--mode", "float32", "--out", "/dev/null/x"], "/dev/null is not a directory"),
    (["convert", "no-run", "--mode", "float32", "--out", "/tmp"], "/tmp is a directory; give a file name"),
])
def test_bad_requests_exit_2_with_one_line_before_any_work(argv, message, capsys):
    """Refused by the argument parser or the first check, naming the argument or field;
    `convert` checks its output path before it looks at the run or loads any model."""
    try:
        status = main(argv)
    except SystemExit as exit:  # argparse
        status = exit.code
    err = capsys.readouterr().err
    assert status == 2 and message in err, err


@requires_fsdd
def test_unknown_training_speakers_are_named_before_data_generation(tmp_path, capsys):
    status = main(["data", "--config", str(ROOT / "configs" / "tiny.yaml"), "--set", f"data.cache_dir={tmp_path}",
                   "--set", "data.train_speakers=[bob]"])
    err = capsys.readouterr().err
    assert status == 2 and "data.train_speakers: speaker(s) ['bob'] not in FSDD; available: [" in err, err
    assert list(tmp_path.iterdir()) == []
