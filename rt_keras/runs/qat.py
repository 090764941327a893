"""The qat step: quantisation-aware fine-tuning of a finished run into ``RUN_DIR/qat``
(checkpoints, resumable backup, history, ``model.weights.h5``, ``metrics.json``), and
loading its model back."""

from __future__ import annotations

import json

from converters.files import atomic_write_json
from rt_keras.core import run_config as run_config_lib
from rt_keras.model.quantize import quantize_model
from rt_keras.model.saving import save_model
from rt_keras.runs.run_dir import RunDir, trained
from rt_keras.training.qat import quantization_aware_fit


def load_qat_model(run_dir):
    """The quantisation-aware model fine-tuned by ``finetune`` (``RUN_DIR/qat``).

    tfmot's wrappers do not survive a ``.keras`` round trip in tf-keras 2.21, so the QAT
    run stores weights only and the model is rebuilt by wrapping the float model again."""
    run = RunDir(run_dir)
    if not run.qat.weights.is_file():
        raise FileNotFoundError(f"{run.qat.weights} not found; run quantisation-aware training first: "
                                f"rt-keras qat {run.path}")
    model = quantize_model(run.load_model())
    model.load_weights(str(run.qat.weights))
    return model


def finetune(run_dir, force: bool = False, progress: bool = True, extra_callbacks=()) -> dict:
    """Quantisation-aware fine-tuning of the trained float run ``run_dir`` (settings: the
    run config's ``qat`` section) into ``run_dir/qat``. A finished QAT run is a no-op
    unless ``force``; an interrupted one resumes."""
    run = trained(run_dir)
    step = run.qat
    finished = None if force else step.finished_metrics("quantisation-aware training")
    if finished:
        return finished
    config = run.load_config()
    settings = config.qat
    # forced: a stale backup would skip calibration and restore the old state
    step.start_step(config, force=force, seed=config.train.seed + 1)
    # Keras leaves the backup directory, empty, when a run finishes
    resuming = step.backup.is_dir() and any(step.backup.iterdir())
    model, history, seconds, validation_wer = quantization_aware_fit(run.load_model(), config, step, resuming,
                                                                     progress, extra_callbacks)
    float_metrics = json.loads(run.metrics.read_text()) if run.metrics.is_file() else {}
    metrics = {
        "finished": True, "name": f"{config.name}-qat", "source": str(run.path),
        "epochs": settings.epochs, "steps_per_epoch": settings.steps_per_epoch, "batch_size": settings.batch_size,
        "learning_rate": settings.learning_rate, "train_seconds_this_session": seconds,
        "epochs_this_session": len(history.history.get("loss", [])),
        "validation_wer": validation_wer, "float_validation_wer": float_metrics.get("validation_wer"),
    }
    save_model(model, step.weights, weights_only=True)
    atomic_write_json(step.metrics, metrics)
    return metrics


def update_qat_settings(run_dir, overrides: list[str]) -> None:
    """Change ``qat.FIELD=VALUE`` settings in the trained run's config.yaml, validated
    before anything is written."""
    bad = [item for item in overrides if not item.startswith("qat.")]
    if bad:
        raise run_config_lib.ConfigError(f"--set {bad[0]!r}: only qat.FIELD=VALUE can be changed after training")
    run = RunDir(run_dir)
    if not run.config.is_file():
        raise FileNotFoundError(f"{run.config} not found; train first: rt-keras train --config ... --out {run.path}")
    values = run_config_lib.apply_overrides(run.load_config().to_dict(), overrides)
    run.save_config(run_config_lib.from_dict(values, str(run.config)))
