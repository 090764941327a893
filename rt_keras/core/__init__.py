"""The contracts every other part relies on, with no TensorFlow: the CTC blank, PCM
scaling and frame arithmetic (``contracts``), vocabularies (``vocabulary``), what to
build (``encoder_config``) and run (``run_config``), split names (``splits``),
conversion modes (``modes``) and WER statistics (``wer_stats``)."""
