"""The run directory: the one owner of its file names, and the lifecycle every step
shares (a finished step is a no-op unless forced, a forced one forgets its resume state).

A run directory holds the resolved ``config.yaml``, ``checkpoints/``, ``backup/`` (the
epoch to resume from), ``history.csv``, ``tensorboard/``, ``model.keras``,
``vocabulary.txt``, ``metrics.json`` (``"finished": true`` once done),
``evaluation.json``, ``qat/`` (the same layout for quantisation-aware fine-tuning, with
``model.weights.h5``), ``qat4/`` (the same for 4-bit weights), ``compression.json`` and the
converted ``model-MODE.tflite`` files (each with its ``.evaluation.json``).
"""

from __future__ import annotations

import json
import logging
import pathlib
import shutil

# registers the custom layers that keras.models.load_model meets in model.keras
import rt_keras.layers  # noqa: F401
from rt_keras.backend import keras
from rt_keras.core import run_config as run_config_lib
from rt_keras.core.errors import UserError
from rt_keras.training.fit import seed_everything

log = logging.getLogger("rt_keras")


class RunDir:
    """A run (or step) directory and the name of every file in it."""

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def __str__(self):
        return str(self.path)

    config = property(lambda self: self.path / "config.yaml")
    model = property(lambda self: self.path / "model.keras")
    metrics = property(lambda self: self.path / "metrics.json")
    evaluation = property(lambda self: self.path / "evaluation.json")
    history = property(lambda self: self.path / "history.csv")
    best_weights = property(lambda self: self.path / "checkpoints" / "best.weights.h5")
    backup = property(lambda self: self.path / "backup")
    tensorboard = property(lambda self: self.path / "tensorboard")
    compression = property(lambda self: self.path / "compression.json")
    weights = property(lambda self: self.path / "model.weights.h5")  # a QAT step's model
    qat = property(lambda self: RunDir(self.path / "qat"))
    qat4 = property(lambda self: RunDir(self.path / "qat4"))  # 4-bit weights (rt-keras qat --weight-bits 4)

    def qat_step(self, weight_bits: int = 8) -> RunDir:
        """The QAT step directory for ``weight_bits`` (8: ``qat/``, 4: ``qat4/``)."""
        return self.qat4 if weight_bits == 4 else self.qat

    def tflite(self, mode: str) -> pathlib.Path:
        return self.path / f"model-{mode}.tflite"

    def streaming_tflite(self, mode: str) -> pathlib.Path:
        return self.path / f"model-streaming-{mode}.tflite"

    @staticmethod
    def evaluation_of(tflite) -> pathlib.Path:
        return pathlib.Path(f"{tflite}.evaluation.json")

    def worker(self, index: int) -> RunDir:
        """Where a non-chief worker of a multi-worker run writes its own results."""
        return RunDir(self.path / f"worker-{index}")

    def require_trained(self) -> RunDir:
        """This run, or FileNotFoundError unless it holds a finished training run."""
        if not self.model.is_file() or not self.config.is_file():
            raise FileNotFoundError(f"{self.path} is not a finished run directory (needs model.keras and "
                                    f"config.yaml); train first: rt-keras train --config ... --out {self.path}")
        return self

    def load_config(self):
        return run_config_lib.load_resolved(self.config)

    def save_config(self, config) -> None:
        run_config_lib.save(config, self.config)

    def load_model(self):
        """The run's Keras model; UserError if model.keras is damaged (a truncated or
        foreign file gives Keras's own assortment of errors)."""
        try:
            return keras.models.load_model(self.model)
        except Exception as error:  # zipfile, h5py, JSON and Keras errors alike
            raise UserError(f"{self.model}: cannot load the model ({type(error).__name__}: "
                            f"{str(error).splitlines()[0][:200] if str(error) else 'damaged'}); "
                            f"train it again with --force") from None

    def finished_metrics(self, what: str) -> dict | None:
        """The metrics of a finished step (its re-run is a no-op unless forced), else None."""
        if self.metrics.is_file():
            metrics = json.loads(self.metrics.read_text())
            if metrics.get("finished"):
                log.info("%s: %s already finished (metrics.json); use --force to run it again", self.path, what)
                return metrics
        return None

    def start_step(self, config, *, force: bool, seed: int) -> RunDir:
        """Before a step fits: a forced step forgets the earlier one's resume state (epoch
        backup, best checkpoint, CSV history); the resolved config is saved; seeds are set."""
        if force:
            shutil.rmtree(self.backup, ignore_errors=True)
            shutil.rmtree(self.best_weights.parent, ignore_errors=True)
            self.history.unlink(missing_ok=True)
        self.path.mkdir(parents=True, exist_ok=True)
        self.save_config(config)
        seed_everything(seed)
        return self


def trained(run_dir) -> RunDir:
    """The finished training run ``run_dir`` (FileNotFoundError otherwise)."""
    return RunDir(run_dir).require_trained()
