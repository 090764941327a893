"""Run configs: bad values fail at load time, naming the field, what was given and what
is allowed, before anything is generated, trained or written."""

import pathlib

import pytest

from rt_keras.cli import main
from rt_keras.core import run_config
from rt_keras.core.encoder_config import ConfigError

RT = pathlib.Path(__file__).parents[2] / "configs" / "rt.yaml"


@pytest.mark.parametrize("override, needle", [
    ("qat.epochs=abc", "qat.epochs='abc': expected int, got str"),
    ("train.batch_size=0", "train.batch_size=0: must be at least 1"),
    ("frontend.sample_rate=0", "frontend.sample_rate=0: must be at least 8000"),
    ("train.strategy=bogus", "train.strategy='bogus'; allowed: default, mirrored, multi_worker"),
    ("frontend.frame_length=100", "frontend.frame_length=100: must be a power of two"),
    ("data=3", "data: expected a section of FIELD: VALUE entries, got int 3"),
    ("train.epochs=[1", "override 'train.epochs=[1': the value is not valid YAML"),
    ("data.train_speakers=bob", "data.train_speakers='bob': expected list, got str"),
    ("data.augment=5", "data.augment: expected a section of FIELD: VALUE entries, got int 5"),
    ("data.augment.noise_probability=yes", "data.augment.noise_probability=True: expected float, got bool"),
    ("train.steps_per_epoch=0", "train.steps_per_epoch=0: must be at least 1"),
    ("frontend.leading_silence_seconds=-0.1", "frontend.leading_silence_seconds=-0.1: expected seconds in [0, 1]"),
    ("frontend.leading_silence_seconds=true", "frontend.leading_silence_seconds=True: expected float, got bool"),
    ("data.mix={espeak: 1}", "data.mix={'espeak': 1}: expected non-negative weights for exactly espeak, tts"),
])
def test_bad_values_are_refused_at_load_naming_the_field(override, needle):
    with pytest.raises(ConfigError) as error:
        run_config.load(RT, [override])
    assert needle in str(error.value)


def test_good_overrides_and_optional_fields_load():
    config = run_config.load(RT, ["train.steps_per_epoch=null", "data.augment.snr_db=[5, 30]", "train.epochs=2"])
    assert config.train.steps_per_epoch is None and config.train.epochs == 2
    assert pathlib.Path(config.data.cache_dir).is_absolute()  # runs do not depend on the cwd later


@pytest.mark.parametrize("text, needle", [("- a\n- b\n", "expected a mapping of sections"),
                                          ("3\n", "expected a mapping of sections"),
                                          ("a: [1\n", "not a valid YAML config"),
                                          ("a: &x [*x]\n", "unknown section(s) ['a']")])
def test_config_files_that_are_not_mappings_are_refused(tmp_path, text, needle):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        run_config.load(path)
    assert needle in str(error.value) and str(path) in str(error.value)


def test_qat_refuses_a_bad_setting_before_writing_the_run_config(tmp_path, capsys):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    run_config.save(run_config.load(RT), run_dir / "config.yaml")
    before = (run_dir / "config.yaml").read_bytes()
    for bad, message in (("qat.epochs=abc", "qat.epochs='abc': expected int, got str"),
                         ("train.epochs=3", "only qat.FIELD=VALUE"), ("qat.bogus=1", "bogus")):
        assert main(["qat", str(run_dir), "--set", bad]) == 2
        assert message in capsys.readouterr().err, bad
    assert (run_dir / "config.yaml").read_bytes() == before
