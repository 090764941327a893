"""Sizes of the converted models, and the WER of the int8 modes.

For the trained demo runs (baseline, albert, rt in RUNS/) in every conversion mode: file
bytes, weight bytes, unique weight bytes, bytes saved by the dedup pass, quantisation
parameter bytes and the size of the ``--materialize`` export (each layer's full matrix,
what you would ship without sharing). QAT runs are made first where missing
(``rt-keras qat``). WER on the held-out FSDD speaker (test_real) of the converted float32,
int8 and qat-int8 models, run by the LiteRT interpreter one utterance at a time.

Then the paper-size encoder (18 layers, d_model 512): baseline and rt (K=3, R=16) built
with initial weights (size and structure need no training; the zero-initialised B_l and
d_l get small random values so that no two layers hold byte-identical tensors, which
the dedup pass would otherwise merge), converted to float32, qat-int8, int4, int4-shared
and (rt) qat-int4: its 4-bit QAT wrapper's grid values, as `--mode qat-int4` ships them.

    python -m benchmarks.conversion_sizes --runs runs

Writes docs/results.md (between the conversion-sizes markers) and RUNS/conversion_sizes.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import sys
import time

import numpy as np

from benchmarks.results_file import write_section
from converters.dedup import dedup_bytes
from converters.files import atomic_write_json
from converters.flatbuffer import load_model
from converters.metadata import read_metadata
from converters.runner import TFLiteModel
from converters.weights import summary, weights
from rt_keras.core import run_config
from rt_keras.core.modes import MODES, QAT4_MODES
from rt_keras.core.vocabulary import DIGITS
from rt_keras.core.wer_stats import format_wer, paired_bootstrap
from rt_keras.data.storage import data_directory, load_split
from rt_keras.export.calibration import representative_audio
from rt_keras.export.keras_to_tflite import audio_signature, convert
from rt_keras.export.package import package
from rt_keras.model.asr import build_asr_model
from rt_keras.model.compress import materialize
from rt_keras.model.quantize import fake_quantized_model, quantize_model, sync_weight_ranges
from rt_keras.runs.qat import finetune, load_qat_model
from rt_keras.runs.run_dir import RunDir
from rt_keras.training.evaluation import evaluate_split

ROOT = pathlib.Path(__file__).resolve().parents[1]

RUNS = ("baseline", "albert", "rt")
WER_MODES = ("float32", "int8", "qat-int8")


def sizes(raw: bytes, shipped: bytes) -> dict:
    """Byte accounting of a converted model: ``raw`` from the converter, ``shipped`` after
    dedup and metadata."""
    roles = ((read_metadata(shipped) or {}).get("info") or {}).get("weight_roles")  # a --short-names file's
    shipped_weights = summary(weights(load_model(shipped)), roles)
    return {"file_bytes": len(shipped), "weight_bytes": summary(weights(load_model(raw)))["total_bytes"],
            "unique_weight_bytes": shipped_weights["unique_bytes"],
            "dedup_saved": len(raw) - len(dedup_bytes(raw)[0]),
            "quantization_bytes": shipped_weights["quantization_bytes"],
            "weights_by_group": shipped_weights["by_group"],
            "file_over_unique": len(shipped) / shipped_weights["unique_bytes"] - 1}


def convert_and_measure(model, config, mode, data, label, short_names=False):
    started = time.time()
    raw = convert(model, mode, audio_signature(), data)
    shipped, _ = package(raw, config, mode, short_names=short_names, vocabulary=DIGITS)
    result = sizes(raw, shipped)
    print(f"  {label:<28}{mode:<10}{result['file_bytes']:>14,} bytes  ({time.time() - started:.0f} s)", flush=True)
    return shipped, result


def trained_runs(runs: pathlib.Path) -> tuple[dict, dict]:
    table, wer = {}, {}
    for name in RUNS:
        run_dir = runs / name
        print(f"{run_dir}: QAT (skipped when done), then every mode", flush=True)
        finetune(run_dir, progress=False)
        config = run_config.load_resolved(run_dir / "config.yaml")
        model = RunDir(run_dir).load_model()
        data = representative_audio(config, config.qat.calibration_utterances)
        test_real = load_split(data_directory(config), "test_real")
        table[name], wer[name] = {}, {"keras float32": evaluate_split(model, test_real, config.frontend)}
        flat = materialize(model, config) if config.encoder.group_size > 1 else None
        for mode in (mode for mode in MODES if mode not in QAT4_MODES):  # qat-int4 needs a 4-bit QAT run
            source = load_qat_model(run_dir) if mode == "qat-int8" else model
            shipped, table[name][mode] = convert_and_measure(source, config, mode, data, name)
            if flat is not None and mode != "qat-int8":
                _, materialized = convert_and_measure(flat[0], flat[1], mode, data, f"{name} --materialize")
                table[name][mode]["materialize_file_bytes"] = materialized["file_bytes"]
            if mode in WER_MODES and name != "albert":
                wer[name][mode] = evaluate_split(TFLiteModel(shipped), test_real, config.frontend, batch_size=1)
                print(f"    WER test_real {format_wer(wer[name][mode])}", flush=True)
    return table, wer


# Encoder sizes built with initial weights: the paper's, and the demo's (configs/rt.yaml).
SIZES = {"paper": {"preset": "paper"}, "demo": {"preset": "small", "num_layers": 6}}


def paper_model(name: str, changes: dict, frontend, rng, size: str = "paper"):
    """The paper-size (or another ``SIZES``) encoder with ``changes`` (K, R, diagonal) and
    initial weights; the zero-initialised B_l and d_l get small random values from ``rng``,
    so that no two layers hold byte-identical tensors (the dedup pass would merge them).
    Returns (model, config)."""
    config = run_config.from_dict({"name": f"{size}-{name}", "encoder": {**SIZES[size], **changes}})
    config = dataclasses.replace(config, frontend=frontend)
    model = build_asr_model(config, len(DIGITS))
    for layer in model.layers:
        if layer.name.endswith(("_lr_b", "_diag")):
            layer.set_weights([rng.normal(scale=0.02, size=w.shape).astype(np.float32) for w in layer.get_weights()])
    return model, config


def paper_size(runs: pathlib.Path) -> dict:
    calibration_config = run_config.load_resolved(runs / "rt" / "config.yaml")
    data = representative_audio(calibration_config, 20)
    rng = np.random.default_rng(0)
    result = {}
    for name, changes in (("baseline", {"group_size": 1, "rank": 0, "diagonal": False}),
                          ("rt", {"group_size": 3, "rank": 16, "diagonal": True})):
        model, config = paper_model(name, changes, calibration_config.frontend, rng)
        qat_model = quantize_model(model)
        result[name] = {"float32": convert_and_measure(model, config, "float32", None, f"paper {name}")[1],
                        "qat-int8": convert_and_measure(qat_model, config, "qat-int8", data, f"paper {name}")[1]}
        if name == "rt":
            result[name]["qat-int8 --short-names"] = convert_and_measure(
                qat_model, config, "qat-int8", data, f"paper {name} --short-names", short_names=True)[1]
        for mode in ("int4", "int4-shared") if name == "rt" else ("int4",):
            result[name][mode] = convert_and_measure(model, config, mode, None, f"paper {name}")[1]
        if name == "rt":  # the 4-bit QAT file: grid values in a float model, recovered exactly
            model, config = paper_model(name, changes, calibration_config.frontend, rng)  # one not converted yet
            qat4_model = quantize_model(model, 4)
            sync_weight_ranges(qat4_model)
            result[name]["qat-int4"] = convert_and_measure(fake_quantized_model(qat4_model, model), config,
                                                           "qat-int4", None, f"paper {name}")[1]
    return result


def paper_report(command: str, paper: dict) -> str:
    """The paper-size table and the 4-bit goals: baseline float32 / rt int4-shared >= 16x and
    / rt qat-int4 >= 18x, and the comparison at about equal bytes (baseline int4, rt qat-int8,
    rt int4-shared)."""
    lines = [f"Command: `{command}` (one run on this machine)", "",
             "Paper-size encoder (18 layers, d_model 512, FFN 2048; initial weights):", "", *HEADER]
    for name, modes in paper.items():
        lines += [_row(f"paper {name}", mode, row) for mode, row in modes.items()]
    base = paper["baseline"]["float32"]["file_bytes"]
    lines += ["", "| file | bytes | baseline float32 / this |", "|---|---:|---:|"]
    for name, mode in (("baseline", "int4"), ("rt", "qat-int8"), ("rt", "int4-shared"), ("rt", "int4"),
                       ("rt", "qat-int4")):
        if mode in paper[name]:
            size = paper[name][mode]["file_bytes"]
            lines.append(f"| paper {name} {mode} | {size:,} | {base / size:.2f}x |")
    if "int4-shared" in paper["rt"]:
        ratio = base / paper["rt"]["int4-shared"]["file_bytes"]
        lines += ["", f"Goal: baseline float32 / rt int4-shared >= 16x — measured **{ratio:.2f}x** "
                      f"({'met' if ratio >= 16 else 'not met'})."]
    if "qat-int4" in paper["rt"]:
        ratio = base / paper["rt"]["qat-int4"]["file_bytes"]
        lines += ["", f"Goal: baseline float32 / rt qat-int4 >= 18x — measured **{ratio:.2f}x** "
                      f"({'met' if ratio >= 18 else 'not met'})."]
    return "\n".join(lines)


def _row(name, mode, row) -> str:
    materialized = row.get("materialize_file_bytes")
    return (f"| {name} | {mode} | {row['file_bytes']:,} | {row['weight_bytes']:,} | {row['unique_weight_bytes']:,} | "
            f"{row['dedup_saved']:,} | {row['quantization_bytes']:,} | {100 * row['file_over_unique']:.1f}% | "
            f"{f'{materialized:,}' if materialized else '—'} |")


HEADER = ["| model | mode | file bytes | weight bytes | unique weight bytes | dedup saved | quant. params | "
          "file over unique | --materialize file |", "|---|---|---|---|---|---|---|---|---|"]


def report(command: str, table: dict, wer: dict, paper: dict) -> str:
    lines = [f"Command: `{command}` (one run on this machine)", "", "Trained demo models (6 layers, d_model 144):", "",
             *HEADER]
    for name, modes in table.items():
        lines += [_row(name, mode, row) for mode, row in modes.items()]
    words = next(iter(next(iter(wer.values())).values()))["words"] if wer else 0
    lines += ["", f"WER [95% CI] on the held-out FSDD speaker (test_real, {words} words), converted models run by "
                  "the LiteRT interpreter one utterance at a time; differences to TFLite float32 with their "
                  "paired-bootstrap 95% CI:", "",
              "| model | Keras float32 | TFLite float32 | int8 (post-training) | qat-int8 |", "|---|---|---|---|---|"]
    wer = {name: values for name, values in wer.items() if all(mode in values for mode in WER_MODES)}
    for name, values in wer.items():
        lines.append(f"| {name} | " + " | ".join(format_wer(values[k]).strip() for k in
                                                 ("keras float32", "float32", "int8", "qat-int8")) + " |")
    lines += ["", "Paper-size encoder (18 layers, d_model 512, FFN 2048; initial weights):", "", *HEADER]
    for name, modes in paper.items():
        lines += [_row(f"paper {name}", mode, row) for mode, row in modes.items()]
    ratio = paper["baseline"]["float32"]["file_bytes"] / paper["rt"]["qat-int8"]["file_bytes"]
    overhead = paper["rt"]["qat-int8"]["file_over_unique"]
    lines += ["", f"Goals: rt qat-int8 >= 12x smaller than baseline float32 — measured **{ratio:.2f}x** "
                  f"({'met' if ratio >= 12 else 'not met'}); rt qat-int8 file <= 3% above its unique weight bytes "
                  f"— measured **{100 * overhead:.2f}%** ({'met' if overhead <= 0.03 else 'not met'})."]
    for name, values in wer.items():
        pair = {mode: paired_bootstrap(values[mode]["utterance_errors"], values["float32"]["utterance_errors"],
                                       values["float32"]["utterance_words"]) for mode in ("int8", "qat-int8")}
        lines.append(f"int8 WER within 1 point of the TFLite float32 model ({name}): " + ", ".join(
            f"{label} {100 * p['difference']:+.2f} points [{100 * p['ci95'][0]:+.1f}, {100 * p['ci95'][1]:+.1f}] "
            f"({p['verdict'].replace('A', label).replace('B', 'float32')})"
            for label, p in (("post-training", pair["int8"]), ("QAT", pair["qat-int8"]))) + ".")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default="runs", help="parent of the trained baseline, albert and rt runs")
    parser.add_argument("--results", default=str(ROOT / "docs" / "results.md"))
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the docs section from RUNS/conversion_sizes.json of an earlier run")
    parser.add_argument("--paper-only", action="store_true",
                        help="only the paper-size encoders (needs RUNS/rt for the calibration audio's config)")
    args = parser.parse_args(argv)
    runs = pathlib.Path(args.runs)
    command = f"python -m benchmarks.conversion_sizes --runs {args.runs}"
    if args.paper_only:
        paper = paper_size(runs)
        atomic_write_json(runs / "conversion_sizes_paper.json", paper)
        text = paper_report(command + " --paper-only", paper)
        print(text)
        write_section(args.results, "conversion-sizes-paper", "Paper-size encoder: int8 and int4 files", text)
        return 0
    if args.report_only:
        saved = json.loads((runs / "conversion_sizes.json").read_text())
        text = report(command, saved["trained"], saved["wer"], saved["paper"])
        print(text)
        write_section(args.results, "conversion-sizes", "Converted sizes: baseline vs albert vs rt, every mode", text)
        return 0
    missing = [name for name in RUNS if not (runs / name / "model.keras").is_file()]
    if missing:
        print(f"no trained runs {missing} in {runs}: python -m benchmarks.train_compare --runs {runs}", file=sys.stderr)
        return 2
    table, wer = trained_runs(runs)
    paper = paper_size(runs)
    atomic_write_json(runs / "conversion_sizes.json", {"trained": table, "wer": wer, "paper": paper})
    text = report(command, table, wer, paper)
    print(text)
    write_section(args.results, "conversion-sizes", "Converted sizes: baseline vs albert vs rt, every mode", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
