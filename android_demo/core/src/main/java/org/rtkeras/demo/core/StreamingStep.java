package org.rtkeras.demo.core;

import java.util.Map;

/** One call of a streaming model; the app's LiteRT engine implements it. */
public interface StreamingStep {
    /**
     * Run one chunk.
     *
     * @param chunk {@link StreamingLayout#chunkSamples} float samples
     * @param state every state input by name (its {@link StreamingLayout.StateTensor#name})
     * @param nextState filled with every state output by output name
     *     ({@link StreamingLayout.StateTensor#output}), each holding {@code size()} floats
     * @return the chunk's per-frame log-probabilities [frames][vocabulary]
     */
    float[][] step(float[] chunk, Map<String, float[]> state, Map<String, float[]> nextState);
}
