"""`rt-keras qat`: quantisation-aware fine-tuning of a trained run."""

from __future__ import annotations


def register(subparsers) -> None:
    p = subparsers.add_parser("qat", help="quantisation-aware fine-tuning of a trained run (tfmot)",
                       description="Wrap the trained float model of RUN_DIR for 8-bit quantisation-aware "
                                   "training (every weight matrix, the shared W_g once for its K layers) and "
                                   "fine-tune it with model.fit into RUN_DIR/qat (settings: the config's qat "
                                   "section, override with --set qat.FIELD=VALUE). With --weight-bits 4 the "
                                   "weight matrices and diagonals are fake-quantised to 4 bits (activations 8) "
                                   "into RUN_DIR/qat4, for `rt-keras convert --mode qat-int4`. Resumes when "
                                   "interrupted.")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--set", action="append", default=[], metavar="qat.FIELD=VALUE",
                   help="override a qat setting, e.g. --set qat.steps_per_epoch=50")
    p.add_argument("--weight-bits", type=int, choices=(4, 8), default=None,
                   help="8: int8 weights into RUN_DIR/qat; 4: 4-bit weight matrices (15 levels, one scale per "
                        "output channel) into RUN_DIR/qat4 (default: the config's qat.weight_bits, 8)")
    p.add_argument("--force", action="store_true", help="run again even if finished")
    p.set_defaults(run=run)


def run(args) -> int:
    from rt_keras.runs.qat import finetune, update_qat_settings

    if args.set:  # qat settings are stored in the run's resolved config
        update_qat_settings(args.run_dir, args.set)
    print(format_qat(finetune(args.run_dir, force=args.force, weight_bits=args.weight_bits), args.run_dir))
    return 0


def format_qat(metrics: dict, run_dir) -> str:
    bits = metrics.get("weight_bits", 8)
    return (f"QAT run: {run_dir}/{'qat4' if bits == 4 else 'qat'}  (model.weights.h5, metrics.json, checkpoints/, "
            f"history.csv)\n"
            f"validation WER {100 * metrics['validation_wer']:.2f}% with fake {bits}-bit weight quantisation "
            f"(float model: {100 * (metrics['float_validation_wer'] or float('nan')):.2f}%)")
