"""What the 8-bit QAT step costs, and which part of it: each finished run's float model,
its QAT copy right after calibration (quantisation noise alone, no step taken), the float
model fine-tuned the way QAT fine-tunes it but without quantisation (the drift of the
fine-tuning alone), the shipped QAT weights, and QAT variants with other settings, all
evaluated in Keras on the same utterances (per-utterance errors kept, so any two can be
compared with benchmarks.pooled_compare). Each (run, variant) is cached in its own file.

    python -m benchmarks.qat_cost --runs runs/robust/recipe/seed-{0,1,2} --out runs/qat-cost \\
        [--variants float calibrated shipped float-ft qat:lr=3e-5 qat:steps=300] \\
        [--splits dev_clean test_real test_real_perturbed test_tts_unseen]

Variants: ``float``, ``calibrated``, ``shipped`` (RUN/qat), ``float-ft[:lr=..:steps=..]``,
``qat[:lr=..:steps=..]`` (fine-tuned in memory like ``rt-keras qat``, the last step's
weights, nothing written to RUN). Defaults of lr and steps: the run's qat section."""

from __future__ import annotations

import argparse
import gc
import json
import pathlib
import sys
import time

from converters.files import atomic_write_json

DEFAULT_VARIANTS = ["float", "calibrated", "shipped", "float-ft"]
DEFAULT_SPLITS = ["dev_clean", "test_real", "test_real_perturbed", "test_tts_unseen"]


def parse_variant(text: str) -> tuple[str, dict]:
    """``qat:lr=3e-5:steps=300`` -> ("qat", {"lr": 3e-05, "steps": 300}); names checked."""
    kind, *settings = text.split(":")
    if kind not in ("float", "calibrated", "shipped", "float-ft", "qat"):
        raise ValueError(f"variant {text!r}: expected float, calibrated, shipped, float-ft[:...] or qat[:...]")
    values = {}
    for item in settings:
        key, _, value = item.partition("=")
        if key not in ("lr", "steps") or not value or kind not in ("float-ft", "qat"):
            raise ValueError(f"variant {text!r}: {item!r}; only float-ft and qat take lr=VALUE and steps=N")
        values[key] = int(value) if key == "steps" else float(value)
    return kind, values


def _fine_tuned(model, config, steps: int, learning_rate: float):
    """``steps`` of model.fit on the training stream QAT uses (same seed, batch, clipnorm)."""
    from rt_keras.backend import keras
    from rt_keras.data.batches import batches, training_split
    from rt_keras.data.storage import data_directory
    from rt_keras.model.ctc import CTCLoss
    from rt_keras.training.fit import seed_everything

    seed_everything(config.train.seed + 1)
    data = batches(training_split(data_directory(config)), config.qat.batch_size, config.frontend, shuffle=True,
                   seed=config.train.seed + 1).repeat()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=config.train.clipnorm), loss=CTCLoss())
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    return model


def _calibrated(float_model, config):
    from rt_keras.data.batches import batches, training_split
    from rt_keras.data.storage import data_directory
    from rt_keras.model.quantize import calibrate_ranges, quantize_model
    from rt_keras.training.fit import seed_everything

    seed_everything(config.train.seed + 1)
    model = quantize_model(float_model, 8)
    calibration = batches(training_split(data_directory(config)), config.qat.batch_size, config.frontend,
                          shuffle=True, seed=config.train.seed)
    calibrate_ranges(model, (audio for audio, _ in calibration.take(config.qat.calibration_batches)))
    return model


def build(run_dir, variant: str):
    """The Keras model of ``variant`` for the finished run ``run_dir``."""
    from rt_keras.runs.qat import load_qat_model
    from rt_keras.runs.run_dir import trained

    run = trained(run_dir)
    config = run.load_config()
    kind, settings = parse_variant(variant)
    steps = settings.get("steps", config.qat.steps_per_epoch * config.qat.epochs)
    learning_rate = settings.get("lr", config.qat.learning_rate)
    if kind == "float":
        return run.load_model()
    if kind == "shipped":
        return load_qat_model(run_dir, 8)
    if kind == "float-ft":
        return _fine_tuned(run.load_model(), config, steps, learning_rate)
    model = _calibrated(run.load_model(), config)
    return model if kind == "calibrated" else _fine_tuned(model, config, steps, learning_rate)


def evaluate(run_dir, variant: str, splits, out) -> dict:
    """``{split: evaluation}`` of one variant, cached in OUT/RUN_NAME/VARIANT.json."""
    from rt_keras.backend import keras
    from rt_keras.data.storage import data_directory, load_split
    from rt_keras.runs.run_dir import trained
    from rt_keras.training.evaluation import evaluate_split

    path = pathlib.Path(out) / pathlib.Path(run_dir).name / f"{variant.replace(':', '_')}.json"
    cached = json.loads(path.read_text()) if path.is_file() else {}
    missing = [split for split in splits if split not in cached]
    if not missing:
        return cached
    config = trained(run_dir).load_config()
    started = time.time()
    model = build(run_dir, variant)
    data_dir = data_directory(config)
    for split in missing:
        cached[split] = evaluate_split(model, load_split(data_dir, split), config.frontend)
    cached["_seconds"] = round(time.time() - started, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, cached)
    del model
    keras.backend.clear_session()  # one process builds many models: without this its memory grows by GBs
    gc.collect()
    return cached


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", nargs="+", required=True, metavar="RUN_DIR", help="finished runs with RUN/qat")
    parser.add_argument("--out", required=True, help="cache directory, one file per run and variant")
    parser.add_argument("--variants", nargs="+", default=DEFAULT_VARIANTS)
    parser.add_argument("--splits", nargs="+", default=DEFAULT_SPLITS)
    args = parser.parse_args(argv)
    try:
        for variant in args.variants:
            parse_variant(variant)
    except ValueError as error:
        parser.error(str(error))
    for run_dir in args.runs:
        for variant in args.variants:
            result = evaluate(run_dir, variant, args.splits, args.out)
            cells = "  ".join(f"{split} {100 * result[split]['wer']:.2f}%" for split in args.splits)
            print(f"{pathlib.Path(run_dir).name:>8} {variant:<22} {cells}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
