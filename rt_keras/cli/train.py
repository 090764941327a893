"""`rt-keras train`: train a model with model.fit into a run directory."""

from __future__ import annotations

from rt_keras.cli.arguments import add_config_arguments, load_run_config


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="train a model with model.fit into a run directory",
                       description="Train with CTC through model.fit. The run directory gets the "
                                   "resolved config, the best-validation-WER checkpoint, a resumable "
                                   "backup (a killed run continues where it stopped), TensorBoard logs, "
                                   "history.csv, model.keras and metrics.json.")
    add_config_arguments(p)
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run directory")
    p.add_argument("--strategy", choices=["default", "mirrored", "multi_worker"],
                   help="tf.distribute strategy (multi_worker reads TF_CONFIG)")
    p.add_argument("--init-from", metavar="RUN_DIR",
                   help="start from this run's model.keras instead of random weights (same encoder, e.g. "
                        "the output of `rt-keras compress`, or a full-context run for a chunked one); the "
                        "config's schedule is the fine-tuning budget")
    p.add_argument("--force", action="store_true", help="train again even if the run finished")
    p.set_defaults(run=run)


def run(args) -> int:
    from rt_keras.runs.train import train

    config = load_run_config(args)
    print(format_train(train(config, args.out, force=args.force), args.out))
    return 0


def format_train(metrics: dict, run_dir) -> str:
    return (f"run directory: {run_dir}  (model.keras, metrics.json, checkpoints/, tensorboard/)\n"
            f"validation WER {100 * metrics['validation_wer']:.2f}%")
