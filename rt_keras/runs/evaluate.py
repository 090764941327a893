"""The evaluate step: WER and CER with 95% intervals of a run's Keras model, or of a
.tflite file made from it, on the run's splits."""

from __future__ import annotations

import json
import pathlib

from converters.files import atomic_write_json
from converters.metadata import read_metadata
from converters.runner import StreamingTFLiteModel, TFLiteModel, check_loads
from rt_keras.core.run_config import ConfigError
from rt_keras.data.materialise import materialise
from rt_keras.data.storage import evaluation_splits, load_split, read_manifest
from rt_keras.runs.run_dir import RunDir, trained
from rt_keras.training.evaluation import evaluate_split, graph_forward


def evaluate_run(run_dir, splits=None, tflite=None) -> tuple[dict, pathlib.Path]:
    """WER and CER with CIs of the run's Keras model (or of the ``.tflite`` file
    ``tflite``) on ``splits`` (default: every test split of the run's data), decoded with the
    run's ``decode.min_token_probability``; written next to it (``evaluation.json`` /
    ``FILE.tflite.evaluation.json``). Returns (results, report path)."""
    run = trained(run_dir)
    config = run.load_config()
    if tflite is not None:
        check_loads(tflite)  # in a child process: a damaged file must not abort this one
        streaming = ((read_metadata(pathlib.Path(tflite).read_bytes()) or {}).get("info") or {}).get("streaming")
        # a streaming file is fed each utterance chunk by chunk, as on a device
        model = StreamingTFLiteModel(tflite).utterance if streaming else TFLiteModel(tflite)
        batch_size, report = 1, RunDir.evaluation_of(tflite)
    else:
        model, batch_size, report = graph_forward(run.load_model()), 32, run.evaluation
    data_dir = materialise(config, progress=False)
    # development splits (dev_*) are evaluated on request: choices are made on them, not on test splits
    development = [name for name in read_manifest(data_dir)["splits"] if name.startswith("dev")]
    available = evaluation_splits(data_dir) + development + ["train", "validation"]
    unknown = [name for name in splits or [] if name not in available]
    if unknown:
        raise ConfigError(f"--splits {' '.join(unknown)}: the run's data has {', '.join(available)}")
    floor = config.decode.min_token_probability  # decoded as the file ships (its metadata has the floor)
    results = {name: {**evaluate_split(model, load_split(data_dir, name), config.frontend, batch_size, floor),
                      "min_token_probability": floor}
               for name in splits or evaluation_splits(data_dir)}
    atomic_write_json(report, {**_earlier_results(report, tflite or run.model), **results})
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
