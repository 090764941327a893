"""TFRecord shards: the same splits as memory storage, streamed once per epoch, split
between workers by shard, sampled without loading them whole."""


import numpy as np
import pytest

from rt_keras.data.materialise import materialise
from rt_keras.data.storage import load_split, read_manifest
from tests.helpers import config_for


# -- sharded TFRecord storage -------------------------------------------------------------
@pytest.fixture(scope="module")
def sharded_data(char_data, tmp_path_factory):
    config, memory_dir = char_data
    sharded = config_for(
        config.data.manifests["train"],
        tmp_path_factory.mktemp("sharded"),
        "data.vocabulary=char",
        "data.storage=shards",
        "data.shard_utterances=7",
    )
    return memory_dir, materialise(sharded, progress=False), sharded


def test_shards_hold_the_same_splits_as_memory(sharded_data):
    from rt_keras.data import shards

    memory_dir, shard_dir, _ = sharded_data
    in_memory, sharded = read_manifest(memory_dir)["splits"], read_manifest(shard_dir)["splits"]
    assert {n: s["sha256"] for n, s in sharded.items()} == {n: s["sha256"] for n, s in in_memory.items()}
    assert sharded["train"]["shards"] == 3 and len(shards.shard_paths(shard_dir, "train")) == 3  # 20 = 7 + 7 + 6
    assert not list(shard_dir.glob("*.npz")) and not list(shard_dir.glob(".*tmp"))
    for name in in_memory:
        a, b = load_split(memory_dir, name), load_split(shard_dir, name)
        assert b.transcripts == a.transcripts and b.sources == a.sources and b.vocabulary == a.vocabulary
        assert all(np.array_equal(x, y) for x, y in zip(a.audio, b.audio)) and len(a.audio) == len(b.audio)


def test_streamed_batches_cover_each_utterance_once_per_epoch_and_workers_split_by_shard(sharded_data):
    from rt_keras.core.contracts import output_frames, target_frames, target_labels
    from rt_keras.data.batches import batches, training_split
    from rt_keras.data.shards import sharded_batches

    _, shard_dir, config = sharded_data
    split = load_split(shard_dir, "train")
    expected = sorted((t, output_frames(a.size, config.frontend)) for a, t in zip(split.audio, split.transcripts))

    def epoch(dataset):
        seen = []
        for audio, targets in dataset:
            assert audio.shape[0] <= 4
            for labels, frames in zip(target_labels(targets.numpy()), target_frames(targets.numpy())):
                seen.append((split.vocabulary.decode([int(i) for i in labels if i >= 0]), int(frames)))
        return sorted(seen)

    dataset = batches(training_split(shard_dir), 4, config.frontend, shuffle=True, seed=3)
    assert epoch(dataset) == expected and epoch(dataset) == expected  # every epoch, reshuffled
    halves = [epoch(sharded_batches(shard_dir, "train", 4, config.frontend, True, worker=(i, 2))) for i in (0, 1)]
    assert sorted(halves[0] + halves[1]) == expected and len(halves[0]) == 7 + 6 and len(halves[1]) == 7
    with pytest.raises(FileNotFoundError, match="no shards of split 'train' for worker 3 of 4"):
        sharded_batches(shard_dir, "train", 4, config.frontend, False, worker=(3, 4))


def test_each_worker_of_a_multi_worker_strategy_reads_its_own_shards(sharded_data):
    from types import SimpleNamespace

    from rt_keras.backend import tf
    from rt_keras.data.shards import sharded_batches
    from rt_keras.training.train import input_worker

    def strategy(kind, index, **cluster):
        resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
            tf.train.ClusterSpec(cluster), task_type=kind, task_id=index
        )
        return SimpleNamespace(cluster_resolver=resolver)

    workers = {"worker": ["a:1", "b:1", "c:1"]}
    assert [input_worker(strategy("worker", i, **workers)) for i in range(3)] == [(0, 3), (1, 3), (2, 3)]
    assert input_worker(strategy("worker", 0, chief=["x:1"], **workers)) == (1, 4)
    assert input_worker(strategy("chief", 0, chief=["x:1"], **workers)) == (0, 4)
    assert input_worker(tf.distribute.get_strategy()) == (0, 1)
    # sharded by file above: tf.data must not shard again (its FILE policy cannot see through the buckets)
    _, shard_dir, config = sharded_data
    options = sharded_batches(shard_dir, "train", 4, config.frontend, True, worker=(1, 3)).options()
    assert options.experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.OFF


def test_sampling_a_sharded_split_streams_it(sharded_data):
    from rt_keras.data.batches import training_split
    from rt_keras.data.shards import ShardedSplit
    from rt_keras.data.storage import sample_audio

    _, shard_dir, _ = sharded_data
    streamed = training_split(shard_dir)
    assert isinstance(streamed, ShardedSplit)
    picks = sample_audio(streamed, 5, seed=1)
    assert len(picks) == 5 and all(p.dtype == np.int16 for p in picks)
    assert all(np.array_equal(a, b) for a, b in zip(picks, sample_audio(streamed, 5, seed=1)))
    train = load_split(shard_dir, "train").audio
    assert all(any(np.array_equal(p, a) for a in train) for p in picks)
    assert len(sample_audio(streamed, 50)) == 20


