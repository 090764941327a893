"""The train step: CTC training of a run config into a run directory; a finished run is
a no-op unless forced, an interrupted one resumes from its last finished epoch."""

from __future__ import annotations

from converters.files import atomic_write_json, check_output_dir
from rt_keras.model.saving import save_model
from rt_keras.runs.run_dir import RunDir, trained
from rt_keras.training.train import check_cluster, check_same_model, make_strategy, train_model, worker_index


def initial_weights(model, config, init_dir) -> None:
    """Start ``model`` from the finished run ``init_dir`` (e.g. a compressed baseline, or
    a full-context run for a chunked one: the streaming recipe, docs/streaming-guide.md),
    whose model ``train`` has checked is the one ``config`` builds."""
    source = trained(init_dir)
    model.set_weights(source.load_model().get_weights())


def train(config, run_dir, force: bool = False, progress: bool = True, extra_callbacks=()) -> dict:
    """Train ``config`` (a RunConfig) into ``run_dir``; returns its metrics."""
    run = RunDir(check_output_dir(run_dir, "run directory"))
    finished = None if force else run.finished_metrics("training")
    if finished:
        return finished
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
