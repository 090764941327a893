"""The compress step: a finished unshared run -> a new run directory holding its residual
weight-shared form (rt_keras.model.compress), ready to fine-tune."""

from __future__ import annotations

import dataclasses

from converters.files import atomic_write_json, check_output_dir
from rt_keras.core.vocabulary import Vocabulary
from rt_keras.model.asr import build_asr_model
from rt_keras.model.compress import compress_unshared
from rt_keras.model.saving import save_model
from rt_keras.runs.run_dir import RunDir, trained


def compress_run(source_dir, out_dir, **encoder_changes) -> dict:
    """Compress the finished unshared run ``source_dir`` into a new run directory
    ``out_dir`` (config.yaml, model.keras, compression.json) whose encoder is the
    source's with ``encoder_changes`` (group_size, rank, diagonal, sharing ...).
    Fine-tune it with ``rt-keras train --init-from OUT_DIR``. Returns the report."""
    out = RunDir(check_output_dir(out_dir, "--out"))
    source = trained(source_dir)
    config = source.load_config()
    target_config = dataclasses.replace(config, name=f"{config.name}-compressed",
                                        encoder=config.encoder.replace(**encoder_changes))
    trained_model = source.load_model()
    target = build_asr_model(target_config, trained_model.output_shape[-1])
    report = compress_unshared(trained_model, target, target_config.encoder)
    out.save_config(target_config)
    Vocabulary.load(source.path).save(out.path)
    save_model(target, out.model)
    atomic_write_json(out.compression, report)
    return report
