"""The isolated-digit splits: single FSDD clips, development ones from the training speakers'
validation takes only, test ones from the held-out speaker."""

import numpy as np

from benchmarks.isolated_digits import DEV_COPIES, isolated_splits
from rt_keras.core import run_config
from rt_keras.data.audio import MODEL_SAMPLE_RATE
from tests.helpers import ROOT, requires_fsdd


@requires_fsdd
def test_isolated_splits_hold_one_digit_each_from_the_right_speakers():
    data = run_config.load(ROOT / "configs" / "rt.yaml").data
    splits = isolated_splits(data, padding=["0.5", "0.25:0"])
    dev, test, padded = splits["dev_isolated"], splits["test_real_isolated"], splits["test_real_isolated_pad0.5"]
    validation_clips = len(data.train_speakers) * 10 * data.validation_takes
    assert len(dev) == DEV_COPIES * validation_clips and set(dev.sources) == set(data.train_speakers)
    assert len(test) == 500 and set(test.sources) == set(data.test_speakers) == {"theo"}
    assert all(len(t.split()) == 1 for split in splits.values() for t in split.transcripts)
    assert [a.size for a in padded.audio] == [a.size + 2 * MODEL_SAMPLE_RATE // 2 for a in test.audio]
    lead_only = splits["test_real_isolated_pad0.25:0"].audio
    for padded_clip, clip in zip(lead_only[:20], test.audio):  # the clip after 0.25 s, under a faint floor
        assert np.abs(padded_clip[MODEL_SAMPLE_RATE // 4:].astype(int) - clip).max() < 30
    # each copy of a clip is padded with 0-1 s of silence with probability 1/2, so the two copies
    # differ in length unless neither is: 3/4 of the clips (all if every one were padded, none if none)
    first, second = dev.audio[:validation_clips], dev.audio[validation_clips:]
    differ = np.mean([a.size != b.size for a, b in zip(first, second)])
    assert 0.6 < differ < 0.9
    again = isolated_splits(data)["dev_isolated"]
    assert all(np.array_equal(a, b) for a, b in zip(dev.audio[:20], again.audio[:20]))  # seeded
