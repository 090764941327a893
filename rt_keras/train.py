"""Training with plain model.fit: the model, its front-end statistics, the optimiser and
schedule, and the shipped best-validation-WER model; where and how it is kept (checkpoint,
resumable backup, logs, metrics) is rt_keras.runs."""

from __future__ import annotations

import math
import pathlib

import numpy as np

from rt_keras import run_config as run_config_lib
from rt_keras import runs
from rt_keras.backend import keras, tf
from rt_keras.ctc import CTCLoss
from rt_keras.data.dataset import load_split, materialise, sample_audio, split_size
from rt_keras.data.pipeline import batches, training_split
from rt_keras.evaluate import evaluate_split
from converters.files import atomic_write_json
from rt_keras.io import save_model
from rt_keras.model import build_asr_model
from rt_keras.params import count_parameters
from rt_keras.task import FRONTEND_LAYER, pcm_to_float
from rt_keras.vocabulary import Vocabulary


@keras.utils.register_keras_serializable(package="rt_keras")
class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to ``peak`` over ``warmup`` steps, then cosine decay to 5% at ``total``."""

    def __init__(self, peak, warmup, total):
        self.peak, self.warmup, self.total = float(peak), int(warmup), int(total)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warm = self.peak * (step + 1) / max(self.warmup, 1)
        progress = tf.clip_by_value((step - self.warmup) / max(self.total - self.warmup, 1), 0.0, 1.0)
        decay = self.peak * (0.05 + 0.95 * 0.5 * (1 + tf.cos(math.pi * progress)))
        return tf.where(step < self.warmup, warm, decay)

    def get_config(self):
        return {"peak": self.peak, "warmup": self.warmup, "total": self.total}


def make_strategy(name: str):
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"train.strategy={name!r}; allowed: default, mirrored, multi_worker")


def input_worker(strategy) -> tuple[int, int]:
    """(this worker's index, number of workers) of a multi-worker strategy, else (0, 1):
    which shards of a sharded split this process reads."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return 0, 1
    spec = resolver.cluster_spec().as_dict()
    tasks = [(kind, index) for kind in ("chief", "worker") for index in range(len(spec.get(kind, [])))]
    return tasks.index((resolver.task_type, resolver.task_id)), len(tasks)


def feature_statistics(model, utterances):
    """Per-bin mean and std of the un-normalised log-mel over int16 ``utterances``."""
    layer = model.get_layer(FRONTEND_LAYER)
    features = np.concatenate([layer.log_mel(pcm_to_float(audio[None])).numpy()[0] for audio in utterances])
    return features.mean(axis=0), features.std(axis=0)


# Encoder fields that change the attention mask and padding, not the weights.
STREAMING_FIELDS = ("chunk_frames", "left_context_frames", "lookahead_frames")


def initial_weights(model, config, init_dir) -> None:
    """Start ``model`` from the finished run ``init_dir`` (e.g. a compressed baseline),
    whose encoder and mel bins must be the ones ``config`` builds. The streaming fields
    may differ: the chunk mask and the causal padding hold no weights, so a full-context
    run can start a chunked one (the streaming recipe, README "Streaming")."""
    init_dir = runs.require_trained(init_dir)
    source = run_config_lib.load_resolved(init_dir / "config.yaml")
    ours = {**config.encoder.to_dict(), "num_mel_bins": config.frontend.num_mel_bins}
    theirs = {**source.encoder.to_dict(), "num_mel_bins": source.frontend.num_mel_bins}
    different = sorted(k for k in ours if ours[k] != theirs[k] and k not in STREAMING_FIELDS)
    if different:
        raise ValueError(f"train.init_from={init_dir}: its model is not the one this config builds: "
                         + ", ".join(f"{k}={theirs[k]!r} (expected {ours[k]!r})" for k in different))
    model.set_weights(keras.models.load_model(init_dir / "model.keras").get_weights())


def _output_dir(strategy, run_dir: pathlib.Path) -> pathlib.Path:
    """Where this worker writes the final model and metrics: the run directory for the
    chief (or the only worker), ``worker-N/`` inside it for the other workers."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return run_dir
    chief = resolver.task_type == "chief" or (
        resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in resolver.cluster_spec().as_dict())
    return run_dir if chief else run_dir / f"worker-{resolver.task_id}"


def train(config, run_dir, force: bool = False, progress: bool = True, extra_callbacks=()) -> dict:
    """Train ``config`` (a RunConfig) into ``run_dir``; a finished run is a no-op unless
    ``force``, an interrupted one resumes from its last finished epoch."""
    run_dir = pathlib.Path(run_dir)
    finished = None if force else runs.finished_metrics(run_dir / "metrics.json", "training")
    if finished:
        return finished
    runs.start_step(run_dir, config, force=force, seed=config.train.seed)
    settings = config.train
    # Before any TensorFlow op runs (reading shards is one): a multi-worker strategy must
    # configure its collective ops at program start.
    strategy = make_strategy(settings.strategy)

    data_dir = materialise(config, progress=progress)
    train_split, validation_split = training_split(data_dir), load_split(data_dir, "validation")
    vocabulary = Vocabulary.load(data_dir)
    steps_per_epoch = settings.steps_per_epoch or math.ceil(split_size(data_dir, "train") / settings.batch_size)
    with strategy.scope():
        model = build_asr_model(config, len(vocabulary))
        model.get_layer(FRONTEND_LAYER).set_statistics(
            *feature_statistics(model, sample_audio(train_split, 200, seed=settings.seed)))
        if settings.init_from:
            initial_weights(model, config, settings.init_from)
        schedule = WarmupCosine(settings.learning_rate, settings.warmup_steps, steps_per_epoch * settings.epochs)
        model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=settings.clipnorm), loss=CTCLoss())

    train_data = batches(train_split, settings.batch_size, config.frontend, shuffle=True, seed=settings.seed,
                         shortest_first=settings.shortest_first, worker=input_worker(strategy)).repeat()
    history, seconds, best_weights = runs.fit_into(run_dir, model, train_data, validation_split, config.frontend,
                                                   settings.epochs, steps_per_epoch, settings.batch_size,
                                                   progress, extra_callbacks)
    epochs_run = len(history.history.get("loss", []))

    # The shipped model: uncompiled (no training state in the file), outside any
    # distribution strategy, holding the best-validation-WER weights.
    inference_model = build_asr_model(config, len(vocabulary))
    if best_weights.is_file():
        inference_model.load_weights(str(best_weights))
    else:
        inference_model.set_weights(model.get_weights())
    validation = evaluate_split(inference_model, validation_split, config.frontend)
    metrics = {
        "finished": True, "name": config.name, "epochs": settings.epochs, "epochs_this_session": epochs_run,
        "steps_per_epoch": steps_per_epoch, "batch_size": settings.batch_size,
        "train_seconds_this_session": seconds,
        "utterances_per_second": epochs_run * steps_per_epoch * settings.batch_size / max(seconds, 1e-9),
        "step_seconds": seconds / max(epochs_run * steps_per_epoch, 1),
        "validation_wer": validation["wer"], "final_loss": (history.history.get("loss") or [None])[-1],
        "parameters": count_parameters(inference_model), "data_dir": str(data_dir),
    }
    out_dir = _output_dir(strategy, run_dir)
    vocabulary.save(out_dir)
    save_model(inference_model, out_dir / "model.keras")
    atomic_write_json(out_dir / "metrics.json", metrics)
    return metrics

