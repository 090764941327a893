package org.rtkeras.demo.core;

/** Runs the speech model; the app's only LiteRT-specific class implements it. */
public interface InferenceEngine {
    /** Per-frame log-probabilities [frames][vocabulary] for mono float PCM at the model's sample rate (its metadata). */
    float[][] run(float[] audio);

    /** E.g. "LiteRT 1.4.0". */
    String runtimeVersion();

    int threads();

    void close();
}
