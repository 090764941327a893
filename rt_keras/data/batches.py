"""Materialised splits -> tf.data batches for model.fit.

Batches are bucketed by length (utterances of similar length together) so padding, which
the encoder sees as silence, stays small. Targets pack what the CTC loss needs next to
the labels (``rt_keras.core.contracts.pack_targets``).
"""

from __future__ import annotations

import numpy as np

from rt_keras.backend import tf
from rt_keras.core.contracts import output_frames, pack_targets, pcm_to_float
from rt_keras.data.shards import ShardedSplit, shard_paths, sharded_batches
from rt_keras.data.storage import load_split


def batch_order(lengths, batch_size, rng, shuffle):
    """Batches of indices of similar length: windows of 32 batches are sorted by length."""
    order = rng.permutation(len(lengths)) if shuffle else np.arange(len(lengths))
    window = batch_size * 32
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda i: lengths[i])
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    if shuffle:
        rng.shuffle(batches)
    return batches


def pad_audio(split, indices) -> tuple[np.ndarray, list[int]]:
    """The utterances ``indices`` as one zero-padded float batch, and their lengths."""
    audio = [pcm_to_float(split.audio[i]) for i in indices]
    x = np.zeros((len(indices), max(a.size for a in audio)), np.float32)
    for row, a in enumerate(audio):
        x[row, :a.size] = a
    return x, [a.size for a in audio]


def pad_batch(split, indices, frontend):
    x, lengths = pad_audio(split, indices)
    return x, pack_targets([output_frames(n, frontend) for n in lengths], [split.labels(i) for i in indices])


def training_split(directory, name: str = "train"):
    """The split to train on: in memory, or a handle that streams it when it is sharded
    (``data.storage: shards``)."""

    return ShardedSplit(directory, name) if shard_paths(directory, name) else load_split(directory, name)


def batches(split, batch_size: int, frontend, shuffle: bool, seed: int = 0,
            shortest_first: bool = False, worker: tuple[int, int] = (0, 1)) -> tf.data.Dataset:
    """A dataset of (audio [B, N], packed targets [B, 1 + L]); each iteration is an epoch.

    ``shortest_first``: the first pass goes from the shortest to the longest utterances
    (SortaGrad, Amodei et al. 2016), which gets CTC past its all-blank start sooner; a
    sharded split streams in shuffled order from the start (SortaGrad needs it whole).
    ``worker=(index, count)``: a sharded split gives this worker its own shards; an
    in-memory one is split by batch when a multi-worker strategy distributes it."""

    if isinstance(split, ShardedSplit):
        return sharded_batches(split.directory, split.name, batch_size, frontend, shuffle, seed, worker)
    lengths = [a.size for a in split.audio]
    epoch = [0]

    def generate():
        rng = np.random.default_rng(seed + epoch[0])
        if shortest_first and epoch[0] == 0:
            order = np.argsort(lengths, kind="stable")
            plan = [list(order[i:i + batch_size]) for i in range(0, len(order), batch_size)]
        else:
            plan = batch_order(lengths, batch_size, rng, shuffle)
        epoch[0] += 1
        for indices in plan:
            yield pad_batch(split, indices, frontend)

    signature = (tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([None, None], tf.int32))
    options = tf.data.Options()
    # Each element is a whole batch: multi-worker training gives every worker its own batches.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return tf.data.Dataset.from_generator(generate, output_signature=signature).with_options(options).prefetch(2)
