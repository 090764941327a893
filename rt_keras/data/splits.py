"""Names of the materialised splits (kept free of heavy imports: the CLI reads them)."""

SPLITS = ("train", "validation", "test_real", "test_real_perturbed", "test_synthetic", "test_tts_unseen")
TEST_SPLITS = SPLITS[2:]
