"""Fitting models: ``model.fit`` with the callbacks every step shares (``fit``), CTC
training (``train``), quantisation-aware fine-tuning (``qat``) and WER on a split
(``evaluation``). Where the results are kept is ``rt_keras.runs``."""
