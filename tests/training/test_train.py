import copy
import csv
import json
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest

from rt_keras.backend import keras
from rt_keras.cli import main as cli_main
from rt_keras.core.encoder_config import ConfigError
from rt_keras.core.splits import TEST_SPLITS
from rt_keras.data.storage import data_directory, load_split
from rt_keras.runs.train import train
from rt_keras.training.evaluation import evaluate_split
from tests.helpers import InterruptAfterEpoch, requires_fsdd

pytestmark = requires_fsdd


def _losses(run_dir):
    with open(run_dir / "history.csv") as f:
        return [(int(row["epoch"]), float(row["loss"])) for row in csv.DictReader(f)]


def test_tiny_end_to_end_train_resume_evaluate(tiny_config, tmp_path):
    config = copy.deepcopy(tiny_config)
    config.train.epochs = 4
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(config, run_dir, progress=False, extra_callbacks=[InterruptAfterEpoch(epoch=1)])
    assert not (run_dir / "metrics.json").exists()
    assert (run_dir / "checkpoints" / "best.weights.h5").is_file()
    assert [e for e, _ in _losses(run_dir)] == [0, 1]
    other = copy.deepcopy(config)
    other.frontend.leading_silence_seconds = 0.1  # another model: its epochs must not continue this one's
    with pytest.raises(ConfigError, match=r"an interrupted training with another config would resume here "
                                          r"\(frontend.leading_silence_seconds: 0.0 -> 0.1\)"):
        train(other, run_dir, progress=False)
    assert [e for e, _ in _losses(run_dir)] == [0, 1]

    metrics = train(config, run_dir, progress=False)  # resumes at epoch 2
    assert metrics["epochs_this_session"] == 2
    losses = _losses(run_dir)
    assert [e for e, _ in losses] == [0, 1, 2, 3]  # no epoch trained twice
    assert losses[-1][1] < losses[0][1]  # the loss went down
    assert metrics["finished"]
    shipped = keras.models.load_model(run_dir / "model.keras")
    validation = load_split(data_directory(config), "validation")
    assert metrics["validation_wer"] == evaluate_split(shipped, validation, config.frontend)["wer"]
    assert (run_dir / "tensorboard").is_dir() and (run_dir / "config.yaml").is_file()

    again = train(config, run_dir, progress=False)  # finished: a no-op
    assert again == json.loads((run_dir / "metrics.json").read_text())

    out = subprocess.run([sys.executable, "-m", "rt_keras.cli", "evaluate", str(run_dir), "--json"],
                         capture_output=True, text=True, check=True).stdout
    results = json.loads(out)
    assert set(results) == set(TEST_SPLITS)
    assert set(results["test_real"]["by_voice"]) == {"theo"}
    assert set(results["test_tts_unseen"]["by_voice"]) == {"flite:slt", "festival:cmu_us_slt_arctic_hts"}
    for name, result in results.items():
        split = load_split(data_directory(config), name)
        assert result["words"] == sum(len(t.split()) for t in split.transcripts) > 0
        assert result["utterances"] == len(split) == len(result["utterance_errors"])
        assert result["wer"] == sum(result["utterance_errors"]) / result["words"]
        assert result["ci95"][0] <= result["wer"] <= result["ci95"][1]

    compared = subprocess.run([sys.executable, "-m", "rt_keras.cli", "evaluate", str(run_dir), "--splits",
                               "test_real", "--against", str(run_dir / "evaluation.json")],
                              capture_output=True, text=True, check=True).stdout
    assert re.search(r"test_real\s+\+0\.00\s+\[\s*\+0\.0,\s*\+0\.0\]\s+inside noise", compared), compared
    # evaluating one split keeps the run's results for the others
    assert set(json.loads((run_dir / "evaluation.json").read_text())) == set(TEST_SPLITS)


def test_training_is_deterministic_for_a_seed(tiny_config, tmp_path):
    config = copy.deepcopy(tiny_config)
    config.train.epochs, config.train.steps_per_epoch = 1, 3
    runs = []
    for name in ("a", "b"):
        train(config, tmp_path / name, progress=False)
        runs.append(keras.models.load_model(tmp_path / name / "model.keras").get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    config.train.seed = 1
    train(config, tmp_path / "c", progress=False)
    other = keras.models.load_model(tmp_path / "c" / "model.keras").get_weights()
    assert any(not np.array_equal(a, c) for a, c in zip(runs[0], other))


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.parametrize("storage", ["memory", "shards"])
def test_two_workers_train_to_the_same_weights(tiny_config, tmp_path, storage):
    """MultiWorkerMirroredStrategy with two local worker processes on 127.0.0.1; with
    shards, each worker streams its own (materialised first: the workers only read)."""
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    run_dir = tmp_path / "run"
    data = ["--set", f"data.cache_dir={tiny_config.data.cache_dir}"]
    config = os.path.join(os.path.dirname(__file__), "..", "..", "configs", "tiny.yaml")
    if storage == "shards":
        data += ["--set", "data.storage=shards", "--set", "data.shard_utterances=10"]
        assert cli_main(["data", "--config", config, *data, "--json"]) == 0
    args = [sys.executable, "-m", "rt_keras.cli", "train", "--config", config, "--out", str(run_dir),
            "--strategy", "multi_worker", *data, "--set", "train.epochs=1", "--set", "train.steps_per_epoch=3"]
    workers = []
    for index in range(2):
        env = dict(os.environ, TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}))
        workers.append(subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = [w.communicate(timeout=600)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    chief = keras.models.load_model(run_dir / "model.keras")
    other = keras.models.load_model(run_dir / "worker-1" / "model.keras")
    for a, b in zip(chief.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_init_from_starts_from_that_run_and_refuses_another_model(tiny_config, tiny_run, tmp_path):
    config = copy.deepcopy(tiny_config)
    config.train.init_from = str(tiny_run)
    config.train.epochs, config.train.learning_rate = 1, 1e-9  # Adam moves each weight by about lr per step
    train(config, tmp_path / "fine-tuned", progress=False)
    started = keras.models.load_model(tiny_run / "model.keras").get_weights()
    tuned = keras.models.load_model(tmp_path / "fine-tuned" / "model.keras").get_weights()
    assert len(started) == len(tuned) and all(np.allclose(a, b, atol=1e-6) for a, b in zip(started, tuned))

    # a full-context run may start a chunked (streaming) one: the mask holds no weights
    config.encoder = config.encoder.replace(chunk_frames=2, left_context_frames=4)
    train(config, tmp_path / "chunked", progress=False)
    chunked = keras.models.load_model(tmp_path / "chunked" / "model.keras")
    assert chunked.get_layer("block00_attention").chunk_frames == 2
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(started, chunked.get_weights()))

    config.encoder = config.encoder.replace(rank=0, diagonal=False)
    with pytest.raises(ValueError, match=r"train.init_from=.*diagonal=True \(expected False\), rank=4 \(expected 0\)"):
        train(config, tmp_path / "other", progress=False)


def test_weight_average_is_validated_and_shipped_and_a_killed_run_resumes(tiny_config, tmp_path):
    """train.ema_momentum: a run killed after epoch 1 resumes with the average on, and the
    best checkpoint (what ships) holds the weights that were validated, which are the average."""
    config = copy.deepcopy(tiny_config)
    config.train.epochs, config.train.steps_per_epoch = 2, 3
    train(config, tmp_path / "plain", progress=False)
    config.train.ema_momentum = 0.5
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "averaged", progress=False, extra_callbacks=[InterruptAfterEpoch(epoch=0)])
    metrics = train(config, tmp_path / "averaged", progress=False)
    assert metrics["epochs_this_session"] == 1
    plain, averaged = (keras.models.load_model(tmp_path / name / "model.keras").get_weights()
                       for name in ("plain", "averaged"))
    assert any(not np.array_equal(a, b) for a, b in zip(plain, averaged))
    with open(tmp_path / "averaged" / "history.csv") as f:
        epoch_wers = [float(row["val_wer"]) for row in csv.DictReader(f)]
    assert len(epoch_wers) == 2 and metrics["validation_wer"] == min(epoch_wers)


def test_weight_average_callbacks_swap_the_average_in_for_validation_and_out_for_the_backup():
    """Between the two callbacks the model holds the optimiser's averages; after the second
    (where BackupAndRestore runs) the raw weights training continues from; ``fit`` ends with
    the average."""
    from rt_keras.training.fit import averaged_weights_callbacks

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(3, input_shape=(4,))])
    model.compile(optimizer=keras.optimizers.Adam(0.1, use_ema=True, ema_momentum=0.5), loss="mse")
    seen = {"averaged": [], "raw": []}

    def recorder(name):
        return keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: seen[name].append([v.numpy() for v in model.trainable_variables]))

    use_average, use_raw = averaged_weights_callbacks(model)
    x, y = np.random.rand(32, 4).astype("float32"), np.random.rand(32, 3).astype("float32")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0,
              callbacks=[*use_average, recorder("averaged"), *use_raw, recorder("raw")])
    averages = [v.numpy() for v in model.optimizer._model_variables_moving_average]
    for a, b in zip(seen["averaged"][-1], averages):
        np.testing.assert_array_equal(a, b)
    assert all(not np.allclose(a, b) for a, b in zip(seen["raw"][-1], averages))  # 4 steps of lr 0.1 apart
    for a, b in zip(model.get_weights(), averages):
        np.testing.assert_array_equal(a, b)
    plain = keras.Sequential([keras.layers.Dense(3, input_shape=(4,))])
    plain.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
    assert averaged_weights_callbacks(plain) == ([], [])


@pytest.mark.parametrize("value", [1.0, -0.1, True, "0.9"])
def test_weight_average_momentum_is_checked(tiny_config, value):
    from rt_keras.core.encoder_config import ConfigError
    from rt_keras.core.run_config import TrainConfig

    with pytest.raises(ConfigError, match=r"train.ema_momentum=.*expected a number in \[0, 1\)"):
        TrainConfig(ema_momentum=value)
