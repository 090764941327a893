"""The train step: CTC training of a run config into a run directory; a finished run is
a no-op unless forced, an interrupted one resumes from its last finished epoch."""

from __future__ import annotations

import logging

from converters.files import atomic_write_json, check_output_dir
from rt_keras.core.encoder_config import ConfigError
from rt_keras.model.saving import save_model
from rt_keras.runs.run_dir import RunDir, trained
from rt_keras.training.train import check_cluster, check_same_model, make_strategy, train_model, worker_index

log = logging.getLogger("rt_keras")


def initial_weights(model, config, init_dir) -> None:
    """Start ``model`` from the finished run ``init_dir`` (e.g. a compressed baseline, or
    a full-context run for a chunked one: the streaming recipe, docs/streaming-guide.md),
    whose model ``train`` has checked is the one ``config`` builds."""
    source = trained(init_dir)
    model.set_weights(source.load_model().get_weights())


def changed_training(config, run: RunDir) -> list[str]:
    """The encoder, front-end and training fields ``config`` sets otherwise than the run's
    recorded config (``section.field: recorded -> requested``); the data section is left
    out (added evaluation splits and machine paths change it without changing the model)."""
    recorded = run.load_config().to_dict()
    requested = config.to_dict()
    return [f"{section}.{field}: {recorded[section].get(field)!r} -> {value!r}"
            for section in ("encoder", "frontend", "train") for field, value in requested[section].items()
            if recorded[section].get(field) != value]


def train(config, run_dir, force: bool = False, progress: bool = True, extra_callbacks=()) -> dict:
    """Train ``config`` (a RunConfig) into ``run_dir``; returns its metrics. A finished run
    is kept even when ``config`` differs from the one it was trained with (a warning names
    the fields; ``force`` trains it again); an interrupted one resumes only under the config
    it started with (ConfigError otherwise)."""
    run = RunDir(check_output_dir(run_dir, "run directory"))
    finished = None if force else run.finished_metrics("training")
    if finished:
        changed = changed_training(config, run) if run.config.is_file() else []
        if changed:
            log.warning("%s was trained with another config (%s): keeping it; use --force, or another --out, "
                        "to train this one", run.path, "; ".join(changed))
        return finished
    if not force and run.backup.is_dir() and run.config.is_file():
        changed = changed_training(config, run)
        if changed:  # resuming would continue one model's training under another's settings
            raise ConfigError(f"{run.path}: an interrupted training with another config would resume here "
                              f"({'; '.join(changed)}); resume it with the config it started with, "
                              "or pass --force (or another --out) to train this one from the start")
    # a refused request leaves nothing behind: checked before the run directory is made
    check_cluster(config.train.strategy)
    init_from = config.train.init_from
    if init_from:
        check_same_model(config, trained(init_from).load_config(), f"train.init_from={init_from}")
    run.start_step(config, force=force, seed=config.train.seed)
    # Before any TensorFlow op runs (reading shards is one): a multi-worker strategy must
    # configure its collective ops at program start.
    strategy = make_strategy(config.train.strategy)
    model, vocabulary, metrics = train_model(
        config, run, strategy, (lambda model: initial_weights(model, config, init_from)) if init_from else None,
        progress, extra_callbacks)
    worker = worker_index(strategy)
    out = run if worker is None else run.worker(worker)
    vocabulary.save(out.path)
    save_model(model, out.model)
    atomic_write_json(out.metrics, metrics)
    return metrics
