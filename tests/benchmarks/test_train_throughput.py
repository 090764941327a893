"""benchmarks/train_throughput.py on the tiny config: every batch size trains the same utterances."""

import pytest

from benchmarks import train_throughput


def test_every_batch_size_trains_the_same_utterances_once(tiny_config):
    rows = [train_throughput.throughput(tiny_config, batch_size, 8) for batch_size in (2, 4)]
    assert [row["steps"] for row in rows] == [4, 2]
    for row in rows:
        assert row["seconds"] > 0 and row["utterances_per_second"] * row["seconds"] == pytest.approx(8)
    audio = [row["audio_seconds_per_second"] * row["seconds"] for row in rows]
    assert audio[0] == pytest.approx(audio[1]) and audio[0] > 8 * 0.3  # the same 8 utterances, each > 0.3 s


def test_too_few_utterances_for_the_largest_batch_are_refused(capsys):
    with pytest.raises(SystemExit):
        train_throughput.main(["--config", "configs/tiny.yaml", "--batch-sizes", "16", "64", "--utterances", "100"])
    assert "at least two batches of the largest" in capsys.readouterr().err
