package org.rtkeras.demo.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a streaming model (`rt-keras convert --streaming`) takes and gives besides audio:
 * the samples per call and the state tensors carried from one call to the next, read from
 * the "streaming" entry of rt_keras_model.json, so the app hard-codes no shape.
 */
public final class StreamingLayout {
    /** One state tensor: fed as input {@code name}, returned as output {@code output}. */
    public static final class StateTensor {
        public final String name;
        public final String output;
        public final int[] shape;

        StateTensor(String name, String output, int[] shape) {
            this.name = name;
            this.output = output;
            this.shape = shape;
        }

        public int size() {
            return elements(shape, name);
        }
    }

    /** The model's audio input and log-probability output, which no state may reuse. */
    public static final String AUDIO = "audio";
    public static final String LOG_PROBS = "output_0";
    /** More floats than any state of a speech model holds (1 GB): a bigger shape is a broken layout. */
    static final long MAX_STATE_FLOATS = 1L << 28;

    public final int chunkSamples;
    public final double algorithmicLatencyMs;
    /**
     * Frames of look-ahead (0: none): the stream's first this many output frames come
     * before the audio, and one more chunk of silence flushes its last ones.
     */
    public final int lookaheadFrames;
    public final List<StateTensor> state;

    private StreamingLayout(int chunkSamples, double algorithmicLatencyMs, int lookaheadFrames,
            List<StateTensor> state) {
        this.chunkSamples = chunkSamples;
        this.algorithmicLatencyMs = algorithmicLatencyMs;
        this.lookaheadFrames = lookaheadFrames;
        this.state = Collections.unmodifiableList(state);
    }

    /** The layout in rt_keras_model.json's text, or null for a model that is not streaming. */
    public static StreamingLayout fromModelInfo(String modelInfo) {
        if (modelInfo == null) {
            return null;
        }
        Object streaming = field(JsonReader.parse(modelInfo), "streaming", "rt_keras_model.json");
        return streaming == null ? null : from(streaming);
    }

    /** The layout from the parsed "streaming" object. */
    public static StreamingLayout from(Object streaming) {
        String where = "rt_keras_model.json streaming";
        int chunk = positive(field(streaming, "chunk_samples", where), where + ".chunk_samples");
        Object latency = field(streaming, "algorithmic_latency_ms", where);
        if (!(latency instanceof Double) || !((Double) latency > 0)) {
            throw new IllegalArgumentException(where + ".algorithmic_latency_ms: expected a positive number, got "
                    + latency);
        }
        Object lookahead = field(streaming, "lookahead_frames", where);  // absent in files before look-ahead
        int lookaheadFrames = lookahead == null || Double.valueOf(0).equals(lookahead) ? 0
                : positive(lookahead, where + ".lookahead_frames");
        Object tensors = field(streaming, "state", where);
        if (!(tensors instanceof List)) {
            throw new IllegalArgumentException(where + ".state: expected a list of state tensors");
        }
        List<StateTensor> state = new ArrayList<StateTensor>();
        Set<String> used = new HashSet<String>(Arrays.asList(AUDIO, LOG_PROBS));
        for (Object tensor : (List<?>) tensors) {
            String at = where + ".state[" + state.size() + "]";
            Object shape = field(tensor, "shape", at);
            if (!(shape instanceof List) || ((List<?>) shape).isEmpty()) {
                throw new IllegalArgumentException(at + ".shape: expected a list of dimensions, got " + shape);
            }
            int[] dimensions = new int[((List<?>) shape).size()];
            for (int i = 0; i < dimensions.length; i++) {
                dimensions[i] = positive(((List<?>) shape).get(i), at + ".shape[" + i + "]");
            }
            String name = text(field(tensor, "name", at), at + ".name");
            String output = text(field(tensor, "output", at), at + ".output");
            for (String tensorName : new String[] {name, output}) {
                if (!used.add(tensorName)) {
                    throw new IllegalArgumentException(at + ": \"" + tensorName + "\" is used twice (or is the "
                            + "model's audio input or log-probability output)");
                }
            }
            elements(dimensions, at);
            state.add(new StateTensor(name, output, dimensions));
        }
        return new StreamingLayout(chunk, (Double) latency, lookaheadFrames, state);
    }

    private static int elements(int[] shape, String where) {
        long size = 1;
        for (int dimension : shape) {
            size *= dimension;
            if (size > MAX_STATE_FLOATS) {
                throw new IllegalArgumentException(where + ": a state of more than " + MAX_STATE_FLOATS + " floats");
            }
        }
        return (int) size;
    }

    private static Object field(Object object, String name, String where) {
        if (!(object instanceof Map)) {
            throw new IllegalArgumentException(where + ": expected an object");
        }
        return ((Map<?, ?>) object).get(name);
    }

    private static int positive(Object value, String where) {
        if (!(value instanceof Double) || (Double) value < 1 || (Double) value > Integer.MAX_VALUE
                || (Double) value != Math.floor((Double) value)) {
            throw new IllegalArgumentException(where + ": expected a positive integer, got " + value);
        }
        return ((Double) value).intValue();
    }

    private static String text(Object value, String where) {
        if (!(value instanceof String)) {
            throw new IllegalArgumentException(where + ": expected a string, got " + value);
        }
        return (String) value;
    }
}
