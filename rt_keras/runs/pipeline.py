"""The whole job in one run directory: data -> train -> evaluate -> qat -> convert
(qat-int8, or the streaming step of a chunked run) -> evaluate the .tflite; finished steps
are skipped."""

from __future__ import annotations

import logging

from converters.files import check_output_dir
from rt_keras.core import run_config as run_config_lib
from rt_keras.core.modes import PIPELINE_MODE
from rt_keras.data.materialise import materialise
from rt_keras.data.storage import read_manifest
from rt_keras.model.streaming import check_streamable
from rt_keras.runs.convert import export_run, export_streaming_run
from rt_keras.runs.evaluate import evaluate_run
from rt_keras.runs.qat import finetune
from rt_keras.runs.run_dir import RunDir
from rt_keras.runs.train import train

log = logging.getLogger("rt_keras")


def pipeline(config_path, overrides, out, force: bool = False, streaming: bool = False):
    """Yields (step, result) after each step, so the caller can report as it goes;
    finished steps are skipped unless ``force``. ``streaming``: the shipped file is the
    streaming step (one chunk and the state per call) of a chunked run."""
    run = RunDir(check_output_dir(out, "run directory"))  # refused before minutes of data generation
    tflite = run.streaming_tflite(PIPELINE_MODE) if streaming else run.tflite(PIPELINE_MODE)
    config = run_config_lib.load(config_path, overrides)
    if streaming and not config.encoder.chunk_frames:
        raise run_config_lib.ConfigError(
            f"{config_path}: --streaming needs a chunked encoder (set encoder.chunk_frames, e.g. --set "
            "encoder.chunk_frames=8 --set encoder.left_context_frames=32 --set encoder.lookahead_frames=4)")
    if streaming:
        check_streamable(config)  # before minutes of training, not at the conversion
    directory = materialise(config)
    yield "data", {"directory": str(directory), **read_manifest(directory)}
    yield "train", train(config, run.path, force=force)
    yield "evaluate", evaluate_run(run.path)[0]
    yield "qat", finetune(run.path, force=force, weight_bits=8)  # PIPELINE_MODE qat-int8 needs the 8-bit run
    if tflite.is_file() and not force:
        log.info("%s exists; use --force to convert again", tflite)
        yield "convert", None
    else:
        export = export_streaming_run if streaming else export_run
        yield "convert", export(run.path, PIPELINE_MODE, tflite)
    yield "evaluate the .tflite", evaluate_run(run.path, tflite=tflite)[0]
