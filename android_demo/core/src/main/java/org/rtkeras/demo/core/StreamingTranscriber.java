package org.rtkeras.demo.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A live transcript from a streaming model: audio arrives in blocks of any size, every whole
 * chunk is run as soon as it is there with the state the previous chunk returned, and the
 * transcript so far is the greedy CTC path over all frames yet. {@link #finish} pads the
 * last partial chunk with zeros, as the host does (converters/runner.py
 * StreamingTFLiteModel.utterance), and starts the next utterance from a fresh state. A model
 * with look-ahead ({@link StreamingLayout#lookaheadFrames}) emits that many frames before
 * the audio's first, which the transcript skips, and {@link #finish} flushes its last ones
 * with one more chunk of silence.
 */
public final class StreamingTranscriber {
    private final StreamingLayout layout;
    private final StreamingStep model;
    private final CtcGreedyDecoder decoder;
    private final float[] pending;
    private int pendingSamples;
    private Map<String, float[]> state;
    private final List<float[]> frames = new ArrayList<float[]>();
    private int chunks;
    private String text;

    public StreamingTranscriber(StreamingLayout layout, StreamingStep model, List<String> vocabulary) {
        this(layout, model, vocabulary, 0);
    }

    /** @param minTokenProbability the model's decoding floor (ModelMetadata.minTokenProbability) */
    public StreamingTranscriber(StreamingLayout layout, StreamingStep model, List<String> vocabulary,
                                double minTokenProbability) {
        this.layout = layout;
        this.model = model;
        this.decoder = new CtcGreedyDecoder(vocabulary, minTokenProbability);
        this.pending = new float[layout.chunkSamples];
        reset();
    }

    /** Forget the utterance: zero state, no frames, no pending samples. */
    public void reset() {
        state = new HashMap<String, float[]>();
        for (StreamingLayout.StateTensor tensor : layout.state) {
            state.put(tensor.name, new float[tensor.size()]);
        }
        frames.clear();
        pendingSamples = 0;
        chunks = 0;
        text = null;
    }

    /** Feed samples (model rate, float PCM); returns the transcript so far. */
    public String accept(float[] samples, int offset, int length) {
        int before = chunks;
        int end = offset + length;
        while (offset < end) {
            int take = Math.min(end - offset, pending.length - pendingSamples);
            System.arraycopy(samples, offset, pending, pendingSamples, take);
            pendingSamples += take;
            offset += take;
            if (pendingSamples == pending.length) {
                runChunk();
            }
        }
        if (chunks != before || text == null) {
            text = transcript();
        }
        return text;
    }

    /** Run what is left (zero-padded to a chunk), return the final transcript and reset. */
    public String finish() {
        try {
            if (pendingSamples > 0) {
                Arrays.fill(pending, pendingSamples, pending.length, 0f);
                runChunk();
            }
            if (layout.lookaheadFrames > 0 && chunks > 0) {
                Arrays.fill(pending, 0f);
                runChunk();
            }
            return transcript();
        } finally {
            reset();
        }
    }

    /** Chunks run in this utterance so far. */
    public int chunks() {
        return chunks;
    }

    public String transcript() {
        int skipped = Math.min(layout.lookaheadFrames, frames.size());
        return decoder.decode(frames.subList(skipped, frames.size()).toArray(new float[0][]));
    }

    private void runChunk() {
        Map<String, float[]> next = new HashMap<String, float[]>();
        float[][] logProbs = model.step(pending.clone(), state, next);
        Map<String, float[]> carried = new HashMap<String, float[]>();
        for (StreamingLayout.StateTensor tensor : layout.state) {
            float[] value = next.get(tensor.output);
            if (value == null || value.length != tensor.size()) {
                throw new IllegalStateException("the model returned " + (value == null ? "no " + tensor.output
                        : value.length + " floats for " + tensor.output) + "; state " + tensor.name + " needs "
                        + tensor.size());
            }
            carried.put(tensor.name, value);
        }
        state = carried;
        for (float[] frame : logProbs) {
            frames.add(frame);
        }
        chunks++;
        pendingSamples = 0;
    }
}
