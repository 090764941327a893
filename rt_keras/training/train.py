"""CTC training with plain model.fit: the model, its front-end statistics, the optimiser
and schedule, the distribution strategy, and the shipped best-validation-WER model.
Where it is kept (checkpoint, resumable backup, logs, metrics) is rt_keras.runs."""

from __future__ import annotations

import json
import math
import os

import numpy as np

from rt_keras.backend import keras, tf
from rt_keras.core.contracts import FRONTEND_LAYER, pcm_to_float
from rt_keras.core.encoder_config import ConfigError
from rt_keras.core.vocabulary import Vocabulary
from rt_keras.data.batches import batches, training_split
from rt_keras.data.materialise import materialise
from rt_keras.data.storage import load_splits, sample_audio, split_size
from rt_keras.model.asr import build_asr_model
from rt_keras.model.ctc import CTCLoss
from rt_keras.model.params import count_parameters
from rt_keras.training.evaluation import evaluate_split
from rt_keras.training.fit import fit_into


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


def adam(learning_rate, settings):
    """Adam with ``settings`` (a TrainConfig): its clipnorm, and with ``ema_momentum`` > 0 a
    moving average of the weights that validation, the checkpoint and the shipped model use."""
    if settings.ema_momentum:
        return keras.optimizers.Adam(learning_rate, clipnorm=settings.clipnorm, use_ema=True,
                                     ema_momentum=settings.ema_momentum)
    return keras.optimizers.Adam(learning_rate, clipnorm=settings.clipnorm)


def check_cluster(name: str) -> None:
    """A multi-worker strategy reads its cluster from TF_CONFIG: ConfigError unless it is
    JSON with a ``cluster`` of host lists and a ``task`` (type, index) in that cluster,
    checked before anything is written."""
    if name != "multi_worker":
        return
    text = os.environ.get("TF_CONFIG", "")
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ConfigError(f"train.strategy=multi_worker: TF_CONFIG is not JSON ({error}): {text[:80]!r}") from None
    cluster, task = (value.get("cluster"), value.get("task")) if isinstance(value, dict) else (None, None)
    if not isinstance(cluster, dict) or not all(isinstance(hosts, list) for hosts in cluster.values()):
        raise ConfigError("train.strategy=multi_worker: TF_CONFIG needs a \"cluster\" of host lists, e.g. "
                          '{"cluster": {"worker": ["host0:2222", "host1:2222"]}, '
                          '"task": {"type": "worker", "index": 0}}')
    if not isinstance(task, dict) or not isinstance(task.get("index"), int) or isinstance(task.get("index"), bool) \
            or task.get("type") not in cluster or not 0 <= task["index"] < len(cluster[task["type"]]):
        raise ConfigError(f"train.strategy=multi_worker: TF_CONFIG's \"task\" {task!r} is not a (type, index) of its "
                          f"cluster {sorted(cluster)}")


def make_strategy(name: str):
    check_cluster(name)
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


def check_same_model(config, source, where: str) -> None:
    """ValueError unless RunConfig ``source`` builds the model ``config`` builds (encoder
    and mel bins; the streaming fields may differ: the chunk mask and the causal padding
    hold no weights, so a full-context run can start a chunked one)."""
    ours = {**config.encoder.to_dict(), "num_mel_bins": config.frontend.num_mel_bins}
    theirs = {**source.encoder.to_dict(), "num_mel_bins": source.frontend.num_mel_bins}
    different = sorted(k for k in ours if ours[k] != theirs[k] and k not in STREAMING_FIELDS)
    if different:
        raise ConfigError(f"{where}: its model is not the one this config builds: "
                         + ", ".join(f"{k}={theirs[k]!r} (expected {ours[k]!r})" for k in different))


def worker_index(strategy) -> int | None:
    """None for the worker that writes the final model and metrics (the chief, or the
    only worker), else this worker's index."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return None
    chief = resolver.task_type == "chief" or (
        resolver.task_type == "worker" and resolver.task_id == 0 and "chief" not in resolver.cluster_spec().as_dict())
    return None if chief else resolver.task_id


def train_model(config, step, strategy, initialize=None, progress: bool = True, extra_callbacks=()):
    """Train RunConfig ``config`` under ``strategy`` into ``step`` (a RunDir: checkpoints,
    backup, logs); ``initialize(model)``, if given, sets the starting weights. Returns the
    shipped model (uncompiled, outside any strategy, holding the best-validation-WER
    weights), its vocabulary and the metrics."""
    settings = config.train
    data_dir = materialise(config, progress=progress)
    train_split, validation_split = training_split(data_dir), load_splits(data_dir, config.train.select_on)
    vocabulary = Vocabulary.load(data_dir)
    steps_per_epoch = settings.steps_per_epoch or math.ceil(split_size(data_dir, "train") / settings.batch_size)
    with strategy.scope():
        model = build_asr_model(config, len(vocabulary))
        model.get_layer(FRONTEND_LAYER).set_statistics(
            *feature_statistics(model, sample_audio(train_split, 200, seed=settings.seed)))
        if initialize is not None:
            initialize(model)
        schedule = WarmupCosine(settings.learning_rate, settings.warmup_steps, steps_per_epoch * settings.epochs)
        model.compile(optimizer=adam(schedule, settings), loss=CTCLoss())
        if settings.ema_momentum:  # fit() finalises the average even when a resume has no epoch left to run
            model.optimizer.build(model.trainable_variables)

    train_data = batches(train_split, settings.batch_size, config.frontend, shuffle=True, seed=settings.seed,
                         shortest_first=settings.shortest_first, worker=input_worker(strategy)).repeat()
    history, seconds = fit_into(step, model, train_data, validation_split, config.frontend, settings.epochs,
                                steps_per_epoch, settings.batch_size, progress, extra_callbacks)
    epochs_run = len(history.history.get("loss", []))

    inference_model = build_asr_model(config, len(vocabulary))
    if step.best_weights.is_file():
        inference_model.load_weights(str(step.best_weights))
    else:
        inference_model.set_weights(model.get_weights())
    validation = evaluate_split(inference_model, validation_split, config.frontend)
    metrics = {
        "finished": True, "name": config.name, "epochs": settings.epochs, "epochs_this_session": epochs_run,
        "steps_per_epoch": steps_per_epoch, "batch_size": settings.batch_size,
        "train_seconds_this_session": seconds,
        "utterances_per_second": epochs_run * steps_per_epoch * settings.batch_size / max(seconds, 1e-9),
        "step_seconds": seconds / max(epochs_run * steps_per_epoch, 1),
        "validation_wer": validation["wer"], "selected_on": list(config.train.select_on),
        "final_loss": (history.history.get("loss") or [None])[-1],
        "parameters": count_parameters(inference_model), "data_dir": str(data_dir),
    }
    return inference_model, vocabulary, metrics
