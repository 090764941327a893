"""Splits as sharded TFRecord files, for data larger than memory (``data.storage: shards``).

Each split is ``NAME-00000.tfrecord``, ``NAME-00001.tfrecord``, ... of at most
``data.shard_utterances`` utterances, one ``tf.train.Example`` each: ``audio`` (int16
little-endian bytes at 16 kHz), ``transcript``, ``source`` and ``labels`` (the token
ids of the run's vocabulary, written once so reading needs no tokenizer). Training
streams them with ``tf.data`` (shards interleaved, shuffled in a window, length-bucketed
batches), so memory does not grow with the data; every worker of a multi-worker run
reads its own shards (shard i goes to worker i mod count).
"""

from __future__ import annotations

import dataclasses
import os
import pathlib

import numpy as np

from rt_keras.core.contracts import PCM_SCALE, subsampled_length

SHARD_SUFFIX = ".tfrecord"
# Utterances of similar length are batched together: bucket edges in samples (16 kHz).
BUCKET_SECONDS = (1, 1.5, 2, 3, 4, 6, 8)
SHUFFLE_UTTERANCES = 2000  # window of the in-stream shuffle (memory: ~2000 x 3 s x 32 kB/s)


@dataclasses.dataclass(frozen=True)
class ShardedSplit:
    """A sharded split to stream from (``rt_keras.data.batches.batches`` takes it like
    an in-memory Split)."""
    directory: pathlib.Path
    name: str


def shard_paths(directory, name: str) -> list[pathlib.Path]:
    return sorted(pathlib.Path(directory).glob(f"{name}-[0-9][0-9][0-9][0-9][0-9]{SHARD_SUFFIX}"))


class ShardWriter:
    """Appends utterances to ``directory/NAME-NNNNN.tfrecord`` files. Each shard is
    written under a temporary name and renamed when full, so no reader sees a partial
    shard; ``close`` finishes the last one."""

    def __init__(self, directory, name: str, shard_utterances: int):
        from rt_keras.backend import tf

        self._tf = tf
        self.directory, self.name, self.shard_utterances = pathlib.Path(directory), name, shard_utterances
        for old in shard_paths(directory, name):  # a forced re-materialisation starts clean
            old.unlink()
        self._writer, self._count, self._index, self._temporary = None, 0, 0, None

    def _path(self, index: int) -> pathlib.Path:
        return self.directory / f"{self.name}-{index:05d}{SHARD_SUFFIX}"

    def write(self, audio: np.ndarray, transcript: str, source: str, labels: list[int]) -> None:
        tf = self._tf
        if self._writer is None:
            self._temporary = self.directory / f".{self.name}-{self._index:05d}.{os.getpid()}.tmp"
            self._writer = tf.io.TFRecordWriter(str(self._temporary))
        feature = {
            "audio": tf.train.Feature(bytes_list=tf.train.BytesList(value=[audio.astype("<i2").tobytes()])),
            "transcript": tf.train.Feature(bytes_list=tf.train.BytesList(value=[transcript.encode()])),
            "source": tf.train.Feature(bytes_list=tf.train.BytesList(value=[source.encode()])),
            "labels": tf.train.Feature(int64_list=tf.train.Int64List(value=labels)),
        }
        self._writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
        self._count += 1
        if self._count == self.shard_utterances:
            self._finish_shard()

    def _finish_shard(self) -> None:
        self._writer.close()
        os.replace(self._temporary, self._path(self._index))
        self._writer, self._count, self._index = None, 0, self._index + 1

    def close(self) -> int:
        """Finish the last shard; returns the number of shards."""
        if self._writer is not None:
            self._finish_shard()
        return self._index


def _parse(tf, record):
    parsed = tf.io.parse_single_example(record, {
        "audio": tf.io.FixedLenFeature([], tf.string), "transcript": tf.io.FixedLenFeature([], tf.string),
        "source": tf.io.FixedLenFeature([], tf.string), "labels": tf.io.VarLenFeature(tf.int64)})
    audio = tf.io.decode_raw(parsed["audio"], tf.int16, little_endian=True)
    return audio, tf.cast(tf.sparse.to_dense(parsed["labels"]), tf.int32), parsed["transcript"], parsed["source"]


def read_utterances(directory, name: str):
    """Every (int16 audio, transcript, source) of a sharded split, in order, one at a time."""
    from rt_keras.backend import tf

    for path in shard_paths(directory, name):
        for record in tf.data.TFRecordDataset(str(path)):
            audio, _, transcript, source = _parse(tf, record)
            yield audio.numpy(), transcript.numpy().decode(), source.numpy().decode()


def sharded_batches(directory, name: str, batch_size: int, frontend, shuffle: bool, seed: int = 0,
                    worker: tuple[int, int] = (0, 1)):
    """A tf.data dataset of (audio [B, N] float32, packed targets [B, 1 + L]) streamed from
    the shards of split ``name``; each iteration is an epoch (reshuffled when ``shuffle``).
    ``worker=(index, count)``: this worker's shards only (shard i goes to worker i mod count;
    ``rt_keras.training.train.input_worker`` gives it for a multi-worker strategy)."""
    from rt_keras.backend import tf

    index, count = worker
    files = [str(p) for p in shard_paths(directory, name)][index::count]
    if not files:
        raise FileNotFoundError(f"{directory}: no shards of split {name!r} for worker {index} of {count}")
    dataset = tf.data.Dataset.from_tensor_slices(files)
    if shuffle:
        dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.interleave(tf.data.TFRecordDataset, cycle_length=min(4, len(files)), deterministic=True,
                                 num_parallel_calls=tf.data.AUTOTUNE)
    if shuffle:
        dataset = dataset.shuffle(SHUFFLE_UTTERANCES, seed=seed, reshuffle_each_iteration=True)

    def example(record):
        audio, labels, _, _ = _parse(tf, record)
        samples = tf.shape(audio)[0]
        frames = tf.maximum(0, 1 + (samples - frontend.frame_length) // frontend.frame_step)
        return tf.cast(audio, tf.float32) / PCM_SCALE, labels, subsampled_length(frames)

    dataset = dataset.map(example, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    edges = [int(s * frontend.sample_rate) for s in BUCKET_SECONDS]
    dataset = dataset.bucket_by_sequence_length(
        lambda audio, labels, frames: tf.shape(audio)[0], edges, [batch_size] * (len(edges) + 1),
        padded_shapes=([None], [None], []), padding_values=(0.0, -1, 0))
    dataset = dataset.map(lambda audio, labels, frames: (audio, tf.concat([frames[:, None], labels], axis=1)))
    options = tf.data.Options()
    # Sharded above, by file: tf.data's FILE auto-sharding cannot see the files through the
    # length bucketing (it fails on GroupByWindowDataset), so it must not try.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    options.deterministic = True
    return dataset.with_options(options).prefetch(2)
