"""Run directories: when a step is finished, how a step starts or resumes, the
``model.fit`` every step shares, evaluation of a run, and the pipeline that chains the
steps. ``train.py`` and ``qat.py`` say what to fit; this module says where it is kept.

A run directory holds the resolved ``config.yaml``, ``checkpoints/``, ``backup/`` (the
epoch to resume from), ``history.csv``, ``tensorboard/``, ``model.keras``,
``metrics.json`` (``"finished": true`` once done), ``evaluation.json``, ``qat/`` (the same
layout for quantisation-aware fine-tuning) and the converted ``.tflite`` files.
Library code logs (logger ``rt_keras``); the CLI prints.
"""

from __future__ import annotations

import json
import logging
import pathlib
import shutil
import time

from converters.files import atomic_write_json
from rt_keras import run_config as run_config_lib
from rt_keras.backend import keras, tf
from rt_keras.evaluate import evaluate_split

log = logging.getLogger("rt_keras")


def require_trained(run_dir) -> pathlib.Path:
    """``run_dir`` as a Path; FileNotFoundError unless it holds a finished training run."""
    run_dir = pathlib.Path(run_dir)
    if not (run_dir / "model.keras").is_file() or not (run_dir / "config.yaml").is_file():
        raise FileNotFoundError(f"{run_dir} is not a finished run directory (needs model.keras and "
                                f"config.yaml); train first: rt-keras train --config ... --out {run_dir}")
    return run_dir


def finished_metrics(metrics_path, what: str) -> dict | None:
    """The metrics of a finished step (its re-run is a no-op unless forced), else None."""
    metrics_path = pathlib.Path(metrics_path)
    if metrics_path.is_file():
        metrics = json.loads(metrics_path.read_text())
        if metrics.get("finished"):
            log.info("%s: %s already finished (metrics.json); use --force to run it again", metrics_path.parent, what)
            return metrics
    return None


def seed_everything(seed: int) -> None:
    """Same seed, same machine, same weights: Python, NumPy and TensorFlow generators are
    seeded and TensorFlow's kernels run deterministically."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def start_step(step_dir, config, *, force: bool, seed: int) -> pathlib.Path:
    """Before a step fits: a forced step forgets the earlier one's resume state (epoch
    backup, best checkpoint, CSV history); the resolved config is saved; seeds are set."""
    step_dir = pathlib.Path(step_dir)
    if force:
        shutil.rmtree(step_dir / "backup", ignore_errors=True)
        shutil.rmtree(step_dir / "checkpoints", ignore_errors=True)
        (step_dir / "history.csv").unlink(missing_ok=True)
    step_dir.mkdir(parents=True, exist_ok=True)
    run_config_lib.save(config, step_dir / "config.yaml")
    seed_everything(seed)
    return step_dir


class ValidationWER(keras.callbacks.Callback):
    """Adds ``val_wer`` to the epoch logs (before ModelCheckpoint reads it)."""

    def __init__(self, split, frontend):
        super().__init__()
        self.split, self.frontend = split, frontend

    def on_epoch_end(self, epoch, logs=None):
        wer = evaluate_split(self.model, self.split, self.frontend)["wer"]
        if logs is not None:
            logs["val_wer"] = wer
        log.info("epoch %d: val_wer %.4f", epoch + 1, wer)


def fit_into(step_dir, model, train_data, validation_split, frontend, epochs, steps_per_epoch, batch_size,
             progress=True, extra_callbacks=()):
    """``model.fit`` with the callbacks every step directory gets: validation WER, the
    best-WER checkpoint, a resumable backup, TensorBoard, history.csv. Returns (history,
    seconds, best weights path)."""
    from rt_keras.data.pipeline import batches

    step_dir = pathlib.Path(step_dir)
    best_weights = step_dir / "checkpoints" / "best.weights.h5"
    best_weights.parent.mkdir(parents=True, exist_ok=True)
    callbacks = [
        ValidationWER(validation_split, frontend),
        keras.callbacks.ModelCheckpoint(str(best_weights), monitor="val_wer", mode="min",
                                        save_best_only=True, save_weights_only=True),
        keras.callbacks.BackupAndRestore(str(step_dir / "backup")),
        keras.callbacks.TensorBoard(str(step_dir / "tensorboard"), update_freq="epoch"),
        keras.callbacks.CSVLogger(str(step_dir / "history.csv"), append=True),
        keras.callbacks.TerminateOnNaN(),
        *extra_callbacks,
    ]
    validation_data = batches(validation_split, batch_size, frontend, shuffle=False)
    started = time.time()
    history = model.fit(train_data, epochs=epochs, steps_per_epoch=steps_per_epoch,
                        validation_data=validation_data, callbacks=callbacks, verbose=1 if progress else 2)
    return history, time.time() - started, best_weights


def evaluate_run(run_dir, splits=None, tflite=None) -> tuple[dict, pathlib.Path]:
    """WER and CER with CIs of the run's Keras model (or of the ``.tflite`` file
    ``tflite``) on ``splits`` (default: every test split of the run's data); written next
    to it (``evaluation.json`` / ``FILE.tflite.evaluation.json``). Returns (results, report path)."""
    from rt_keras.data.dataset import load_split, materialise, evaluation_splits

    run_dir = require_trained(run_dir)
    config = run_config_lib.load_resolved(run_dir / "config.yaml")
    if tflite is not None:
        from converters.metadata import read_metadata
        from converters.runner import StreamingTFLiteModel, TFLiteModel, check_loads

        check_loads(tflite)  # in a child process: a damaged file must not abort this one
        streaming = ((read_metadata(pathlib.Path(tflite).read_bytes()) or {}).get("info") or {}).get("streaming")
        # a streaming file is fed each utterance chunk by chunk, as on a device
        model = StreamingTFLiteModel(tflite).utterance if streaming else TFLiteModel(tflite)
        batch_size, report = 1, pathlib.Path(f"{tflite}.evaluation.json")
    else:
        model, batch_size, report = keras.models.load_model(run_dir / "model.keras"), 32, run_dir / "evaluation.json"
    data_dir = materialise(config, progress=False)
    available = evaluation_splits(data_dir) + ["train", "validation"]
    unknown = [name for name in splits or [] if name not in available]
    if unknown:
        raise run_config_lib.ConfigError(f"--splits {' '.join(unknown)}: the run's data has {', '.join(available)}")
    results = {name: evaluate_split(model, load_split(data_dir, name), config.frontend, batch_size)
               for name in splits or evaluation_splits(data_dir)}
    atomic_write_json(report, {**_earlier_results(report, tflite or run_dir / "model.keras"), **results})
    return results, report


def _earlier_results(report: pathlib.Path, model: pathlib.Path) -> dict:
    """The splits ``report`` already holds for this very ``model`` (written after it), so
    evaluating some splits keeps the others; nothing if the model is newer or the report unreadable."""
    try:
        if report.stat().st_mtime >= pathlib.Path(model).stat().st_mtime:
            return json.loads(report.read_text())
    except (OSError, ValueError):
        pass
    return {}


def update_qat_settings(run_dir, overrides: list[str]) -> None:
    """Change ``qat.FIELD=VALUE`` settings in the trained run's config.yaml, validated
    before anything is written."""
    bad = [item for item in overrides if not item.startswith("qat.")]
    if bad:
        raise run_config_lib.ConfigError(f"--set {bad[0]!r}: only qat.FIELD=VALUE can be changed after training")
    config_path = pathlib.Path(run_dir) / "config.yaml"
    if not config_path.is_file():
        raise FileNotFoundError(f"{config_path} not found; train first: rt-keras train --config ... --out {run_dir}")
    values = run_config_lib.apply_overrides(run_config_lib.load_resolved(config_path).to_dict(), overrides)
    run_config_lib.save(run_config_lib.from_dict(values, str(config_path)), config_path)


PIPELINE_MODE = "qat-int8"


def pipeline(config_path, overrides, out, force: bool = False):
    """data -> train -> evaluate -> qat -> convert (qat-int8) -> evaluate the .tflite.
    Yields (step, result) after each step, so the caller can report as it goes; finished
    steps are skipped unless ``force``."""
    from rt_keras.data.dataset import materialise, read_manifest
    from rt_keras.export import export_run
    from rt_keras.qat import finetune
    from rt_keras.train import train

    out = pathlib.Path(out)
    tflite = out / f"model-{PIPELINE_MODE}.tflite"
    config = run_config_lib.load(config_path, overrides)
    directory = materialise(config)
    yield "data", {"directory": str(directory), **read_manifest(directory)}
    yield "train", train(config, out, force=force)
    yield "evaluate", evaluate_run(out)[0]
    yield "qat", finetune(out, force=force)
    if tflite.is_file() and not force:
        log.info("%s exists; use --force to convert again", tflite)
        yield "convert", None
    else:
        yield "convert", export_run(out, PIPELINE_MODE, tflite)
    yield "evaluate the .tflite", evaluate_run(out, tflite=tflite)[0]
