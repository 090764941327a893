"""A run on the user's own data and vocabulary, through training, the .tflite and evaluation
(the data: tests/conftest.py `spoken`)."""


import pytest

from rt_keras.core.vocabulary import Vocabulary
from rt_keras.data.materialise import materialise
from rt_keras.data.storage import load_split
from tests.helpers import config_for, write_manifest


# -- a run on the user's data, through the .tflite ----------------------------------------
@pytest.mark.parametrize("kind", ["subword", "char-shards"])  # (char in memory: the shard tests compare them)
def test_a_run_trains_converts_and_evaluates_with_its_own_vocabulary(spoken, kind, tmp_path):
    from converters.metadata import read_metadata
    from rt_keras.export.transcribe import transcribe_wav_files
    from rt_keras.runs.convert import export_run
    from rt_keras.runs.evaluate import evaluate_run
    from rt_keras.runs.train import train

    directory, rows = spoken
    kind, _, storage = kind.partition("-")
    config = config_for(
        write_manifest(directory / "train.jsonl", rows),
        tmp_path / "cache",
        f"data.vocabulary={kind}",
        "data.subword_pieces=24",
        "train.epochs=1",
        f"data.storage={storage or 'memory'}",
        "data.shard_utterances=8",
    )
    train(config, tmp_path / "run", progress=False)
    vocabulary = Vocabulary.load(tmp_path / "run")
    assert vocabulary.kind == kind and vocabulary == Vocabulary.load(materialise(config, progress=False))

    export_run(tmp_path / "run", "float32", tmp_path / "model.tflite")
    assert read_metadata((tmp_path / "model.tflite").read_bytes())["vocabulary"] == list(vocabulary.tokens)
    keras_result, _ = evaluate_run(tmp_path / "run")
    tflite_result, _ = evaluate_run(tmp_path / "run", tflite=tmp_path / "model.tflite")
    test = load_split(materialise(config, progress=False), "test")
    for result in (keras_result["test"], tflite_result["test"]):
        assert result["words"] == sum(len(t.split()) for t in test.transcripts)
        assert result["cer"]["characters"] == sum(len(t) for t in test.transcripts)
    assert tflite_result["test"]["utterance_errors"] == keras_result["test"]["utterance_errors"]
    assert tflite_result["test"]["cer"]["errors"] == keras_result["test"]["cer"]["errors"]
    # the CLI's transcript is the .tflite's best path read with the run's vocabulary
    from converters.runner import TFLiteModel
    from rt_keras.core.contracts import float_to_pcm, greedy_decode, pcm_to_float
    from rt_keras.data.audio import read_wav

    transcript = transcribe_wav_files(tmp_path / "model.tflite", [directory / rows[0]["audio"]])[0]
    audio = pcm_to_float(float_to_pcm(read_wav(directory / rows[0]["audio"])))
    log_probs = TFLiteModel(tmp_path / "model.tflite")(audio[None])[0]
    assert transcript["error"] is None and transcript["transcript"] == vocabulary.decode(greedy_decode(log_probs))
