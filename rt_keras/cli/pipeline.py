"""`rt-keras pipeline`: the whole job in one run directory (data, train, evaluate, qat, convert)."""

from __future__ import annotations

import sys

from rt_keras.cli.arguments import add_config_arguments, overrides
from rt_keras.cli.convert import format_convert
from rt_keras.cli.data import format_data
from rt_keras.cli.evaluate import format_comparison, format_evaluation, read_evaluation
from rt_keras.cli.qat import format_qat
from rt_keras.cli.train import format_train
from rt_keras.core.modes import PIPELINE_MODE


def register(subparsers) -> None:
    p = subparsers.add_parser("pipeline", help="the whole job: data, train, evaluate, qat, convert",
                       description="Run every step into one run directory: data, train, evaluate, "
                                   "quantisation-aware training, conversion to a deduplicated qat-int8 "
                                   "model-qat-int8.tflite with metadata, and its WER. Finished steps are skipped.")
    add_config_arguments(p)
    p.add_argument("--out", required=True, metavar="RUN_DIR")
    p.add_argument("--force", action="store_true", help="run every step again even if finished")
    p.add_argument("--streaming", action="store_true",
                   help="ship the streaming step of a chunked run (encoder.chunk_frames > 0) as "
                        "model-streaming-qat-int8.tflite: one chunk of audio and the state per call, for live "
                        "transcripts (docs/streaming-guide.md); start it from a full-context run with "
                        "--set train.init_from=RUN_DIR")
    p.add_argument("--against", metavar="EVALUATION.json",
                   help="also compare the shipped file's WER with another evaluation of the same splits (paired "
                        "bootstrap), e.g. --against runs/rt/model-qat-int8.tflite.evaluation.json for a streaming run")
    p.set_defaults(run=run)


def run(args) -> int:
    """data -> train -> evaluate -> qat -> convert (qat-int8) -> evaluate the .tflite."""
    from rt_keras.export.keras_to_tflite import ConversionError
    from rt_keras.runs.pipeline import pipeline
    from rt_keras.runs.run_dir import RunDir

    other = read_evaluation(args.against) if args.against else None  # refused before any work
    run_dir = RunDir(args.out)
    out = run_dir.path
    tflite = run_dir.streaming_tflite(PIPELINE_MODE) if args.streaming else run_dir.tflite(PIPELINE_MODE)
    printers = {
        "data": format_data,
        "train": lambda m: format_train(m, out),
        "evaluate": format_evaluation,
        "qat": lambda m: format_qat(m, out),
        "convert": lambda r: format_convert(r, tflite),
        "evaluate the .tflite": lambda r: "\n".join(
            [format_evaluation(r), format_comparison(r, read_evaluation(run_dir.evaluation), run_dir.evaluation)]
            + ([format_comparison(r, other, args.against)] if other is not None else [])),
    }
    try:
        for step, result in pipeline(args.config, overrides(args), out, force=args.force, streaming=args.streaming):
            print(f"\n== rt-keras pipeline: {step}")
            if result is not None:
                print(printers[step](result))
    except ConversionError as error:
        print(f"rt-keras pipeline: {error}", file=sys.stderr)
        return 2
    print(
        f"\neverything is in {out}/: config.yaml, model.keras, metrics.json, evaluation.json, history.csv, "
        f"checkpoints/, tensorboard/ (tensorboard --logdir {out}/tensorboard), qat/, and the shipped model "
        f"{tflite.name} (int8, shared tensors stored once, with metadata)"
    )
    return 0
