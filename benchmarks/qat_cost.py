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
weights, nothing written to RUN), ``qat4[:act=int8|float][:lr=..:steps=..]`` (4-bit QAT
with 8-bit or float activations, converted to a qat-int4 file in OUT and evaluated with
LiteRT). Defaults of lr and steps: the run's qat section."""

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
    if kind not in ("float", "calibrated", "shipped", "float-ft", "qat", "qat4"):
        raise ValueError(f"variant {text!r}: expected float, calibrated, shipped, float-ft[:...], qat[:...] "
                         "or qat4[:...]")
    values = {}
    for item in settings:
        key, _, value = item.partition("=")
        if key == "act" and kind == "qat4" and value in ("int8", "float"):
            values[key] = value
            continue
        if key not in ("lr", "steps") or not value or kind not in ("float-ft", "qat", "qat4"):
            raise ValueError(f"variant {text!r}: {item!r}; float-ft, qat and qat4 take lr=VALUE and steps=N, "
                             "qat4 also act=int8|float")
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


def _calibrated(float_model, config, weight_bits: int = 8, float_activations: bool = False):
    from rt_keras.data.batches import batches, training_split
    from rt_keras.data.storage import data_directory
    from rt_keras.model.quantize import calibrate_ranges, quantize_model
    from rt_keras.training.fit import seed_everything

    seed_everything(config.train.seed + 1)
    model = quantize_model(float_model, weight_bits, float_activations)
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
    if kind == "qat4":  # as `rt-keras qat --weight-bits 4`, activations fake-quantised to 8 bits or left float
        from rt_keras.model.quantize import sync_weight_ranges

        model = _fine_tuned(_calibrated(run.load_model(), config, 4, settings.get("act") == "float"), config, steps,
                            learning_rate)
        sync_weight_ranges(model)
        return model
    model = _calibrated(run.load_model(), config)
    return model if kind == "calibrated" else _fine_tuned(model, config, steps, learning_rate)


def qat_int4_file(run_dir, qat4_model, path: pathlib.Path):
    """The qat-int4 file of a 4-bit QAT model (as `rt-keras convert --mode qat-int4`), at ``path``."""
    from converters.files import atomic_write_bytes
    from converters.runner import TFLiteModel
    from rt_keras.core.vocabulary import Vocabulary
    from rt_keras.export.package import export_model
    from rt_keras.model.quantize import fake_quantized_model
    from rt_keras.runs.run_dir import trained

    run = trained(run_dir)
    float_model = fake_quantized_model(qat4_model, run.load_model())
    flatbuffer, _ = export_model(float_model, run.load_config(), "qat-int4", vocabulary=Vocabulary.load(run.path))
    atomic_write_bytes(path, flatbuffer)
    return TFLiteModel(path)


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
    batch_size = 32
    if parse_variant(variant)[0] == "qat4":  # evaluated as the file it exports, one utterance at a time
        model, batch_size = qat_int4_file(run_dir, model, path.with_suffix(".tflite")), 1
    data_dir = data_directory(config)
    for split in missing:
        cached[split] = evaluate_split(model, load_split(data_dir, split), config.frontend, batch_size)
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
