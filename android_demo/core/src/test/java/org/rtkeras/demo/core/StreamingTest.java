package org.rtkeras.demo.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.Assume;
import org.junit.Test;

/**
 * The streaming path of the app's core against streaming-golden.json (committed, from
 * benchmarks/android_golden.py: a real streaming .tflite run chunk by chunk by ai-edge-litert
 * on a real FSDD recording). A stand-in for the model checks what StreamingTranscriber sends
 * (the host's chunks; zero state first, then exactly what the previous call returned, routed
 * output -> input by the model's own layout) and replays the host's log-probabilities; the
 * live transcript after every chunk and the final one must be the host's.
 */
public class StreamingTest {
    @SuppressWarnings("unchecked")
    private static Map<String, Object> fixture() throws IOException {
        InputStream in = StreamingTest.class.getResourceAsStream("streaming-golden.json");
        Assume.assumeTrue("streaming-golden.json is not on the class path", in != null);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] block = new byte[8192];
        for (int n; (n = in.read(block)) > 0; ) {
            bytes.write(block, 0, n);
        }
        in.close();
        return (Map<String, Object>) JsonReader.parse(new String(bytes.toByteArray(), StandardCharsets.UTF_8));
    }

    private static float[] floats(Object list) {
        List<?> values = (List<?>) list;
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Double) values.get(i)).floatValue();
        }
        return out;
    }

    /** Replays the host's chunks; its state outputs are a different fill per call and tensor. */
    private static final class ReplayedModel implements StreamingStep {
        final StreamingLayout layout;
        final List<?> chunks;
        int calls;

        ReplayedModel(StreamingLayout layout, List<?> chunks) {
            this.layout = layout;
            this.chunks = chunks;
        }

        static float fill(int call, int tensor) {
            return 1000f * (call + 1) + tensor;
        }

        @Override
        public float[][] step(float[] chunk, Map<String, float[]> state, Map<String, float[]> nextState) {
            assertTrue("more chunks than the host ran", calls < chunks.size());
            Map<?, ?> expected = (Map<?, ?>) chunks.get(calls);
            assertEquals(layout.chunkSamples, chunk.length);
            double sum = 0;
            for (float sample : chunk) {
                sum += sample;
            }
            assertEquals("samples of chunk " + calls, (Double) expected.get("sum"), sum, 1e-3);
            assertEquals(layout.state.size(), state.size());
            for (int t = 0; t < layout.state.size(); t++) {
                StreamingLayout.StateTensor tensor = layout.state.get(t);
                float[] value = state.get(tensor.name);
                float[] carried = new float[tensor.size()];
                java.util.Arrays.fill(carried, calls == 0 ? 0f : fill(calls - 1, t));
                assertArrayEquals("state " + tensor.name + " at chunk " + calls, carried, value, 0f);
                float[] next = new float[tensor.size()];
                java.util.Arrays.fill(next, fill(calls, t));
                nextState.put(tensor.output, next);
            }
            List<?> rows = (List<?>) expected.get("log_probs");
            float[][] logProbs = new float[rows.size()][];
            for (int i = 0; i < logProbs.length; i++) {
                logProbs[i] = floats(rows.get(i));
            }
            calls++;
            return logProbs;
        }
    }

    @Test
    public void transcriberCarriesTheStateAndShowsTheHostsLiveTranscripts() throws IOException {
        Map<String, Object> fixture = fixture();
        StreamingLayout layout = StreamingLayout.from(fixture.get("layout"));
        // Microphone blocks of an odd size, exactly a chunk, and several chunks at once.
        for (int block : new int[] {1234, layout.chunkSamples, 2 * layout.chunkSamples + 7}) {
            streamInBlocks(fixture, layout, block);
        }
    }

    private static void streamInBlocks(Map<String, Object> fixture, StreamingLayout layout, int block) {
        List<String> vocabulary = new ArrayList<String>();
        for (Object token : (List<?>) fixture.get("vocabulary")) {
            vocabulary.add((String) token);
        }
        List<?> chunks = (List<?>) fixture.get("chunks");
        assertTrue("a streaming fixture of several chunks", chunks.size() >= 2 && !layout.state.isEmpty());
        float[] audio = floats(fixture.get("audio"));
        ReplayedModel model = new ReplayedModel(layout, chunks);
        StreamingTranscriber transcriber = new StreamingTranscriber(layout, model, vocabulary);
        List<String> partials = new ArrayList<String>();
        for (int at = 0; at < audio.length; at += block) {
            int before = transcriber.chunks();
            String text = transcriber.accept(audio, at, Math.min(block, audio.length - at));
            for (int run = before; run < transcriber.chunks(); run++) {
                partials.add(run == transcriber.chunks() - 1 ? text : null); // only the last is shown
            }
        }
        String last = transcriber.finish();
        if (audio.length % layout.chunkSamples != 0) {
            partials.add(last);
        }
        assertEquals("chunks with blocks of " + block, chunks.size(), model.calls);
        for (int i = 0; i < chunks.size(); i++) {
            if (partials.get(i) != null) {
                assertEquals("transcript after chunk " + i + " (blocks of " + block + ")",
                        ((Map<?, ?>) chunks.get(i)).get("transcript"), partials.get(i));
            }
        }
        String transcript = (String) fixture.get("transcript");
        assertFalse("the fixture's transcript is not empty", transcript.isEmpty());
        assertEquals(transcript, last);
        assertEquals("finish starts a fresh utterance", 0, transcriber.chunks());
    }

    /** Each call returns two frames: the first names the call ("one" for call 0, ...), the second is blank. */
    private static final class CountingModel implements StreamingStep {
        int calls;

        @Override
        public float[][] step(float[] chunk, Map<String, float[]> state, Map<String, float[]> nextState) {
            nextState.put("offset_out", new float[] {calls + 1});
            float[] named = new float[] {-9f, -9f, -9f, -9f};
            named[Math.min(calls + 1, 3)] = 0f;
            calls++;
            return new float[][] {named, new float[] {0f, -9f, -9f, -9f}};
        }
    }

    @Test
    public void lookaheadSkipsTheFramesBeforeTheAudioAndFlushesTheLastOnes() {
        StreamingLayout layout = StreamingLayout.fromModelInfo("{\"streaming\": {\"chunk_samples\": 4, "
                + "\"algorithmic_latency_ms\": 0.5, \"lookahead_frames\": 1, "
                + "\"state\": [{\"name\": \"offset\", \"shape\": [1], \"output\": \"offset_out\"}]}}");
        assertEquals(1, layout.lookaheadFrames);
        CountingModel model = new CountingModel();
        StreamingTranscriber transcriber = new StreamingTranscriber(layout, model,
                java.util.Arrays.asList("<blank>", "one", "two", "three"));
        assertEquals("call 0's first frame precedes the audio", "", transcriber.accept(new float[4], 0, 4));
        assertEquals("two", transcriber.accept(new float[4], 0, 4));
        assertEquals("a flush after the last chunk", "two three", transcriber.finish());
        assertEquals(3, model.calls);
        assertEquals("no look-ahead: nothing skipped, no flush", 0, StreamingLayout.fromModelInfo(
                "{\"streaming\": {\"chunk_samples\": 4, \"algorithmic_latency_ms\": 0.5, \"state\": []}}")
                .lookaheadFrames);
    }

    @Test
    public void layoutErrorsNameTheField() {
        try {
            StreamingLayout.fromModelInfo("{\"streaming\": {\"chunk_samples\": 5120, \"algorithmic_latency_ms\": 320, "
                    + "\"state\": [{\"name\": \"audio_tail\", \"output\": \"output_1\", \"shape\": [1, -352]}]}}");
            fail("a negative dimension was accepted");
        } catch (IllegalArgumentException e) {
            assertEquals("rt_keras_model.json streaming.state[0].shape[1]: expected a positive integer, got -352.0",
                    e.getMessage());
        }
        assertEquals(null, StreamingLayout.fromModelInfo("{\"mode\": \"qat-int8\", \"loss\": NaN}"));
        try {
            StreamingLayout.fromModelInfo("{\"streaming\": {\"chunk_samples\": 5120, \"algorithmic_latency_ms\": 320.0, "
                    + "\"state\": [{\"name\": \"k\", \"output\": \"output_1\", \"shape\": [2]}, "
                    + "{\"name\": \"v\", \"output\": \"output_1\", \"shape\": [2]}]}}");
            fail("two states returned by one output were accepted");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("state[1]: \"output_1\" is used twice"));
        }
        StreamingLayout layout = StreamingLayout.fromModelInfo("{\"streaming\": {\"chunk_samples\": 5120, "
                + "\"algorithmic_latency_ms\": 320.0, \"state\": [{\"name\": \"k\", \"output\": \"output_2\", "
                + "\"shape\": [1, 32, 144]}]}}");
        assertEquals(5120, layout.chunkSamples);
        assertEquals(32 * 144, layout.state.get(0).size());
        assertEquals("output_2", layout.state.get(0).output);
    }

    @Test
    public void jsonReaderRejectsWhatIsNotJson() {
        assertEquals("a\u00e9\n", JsonReader.parse("\"a\\u00e9\\n\""));
        try {
            JsonReader.parse("{\"a\": [1, 2,]}");
            fail("a trailing comma was accepted");
        } catch (IllegalArgumentException e) {
            assertEquals("JSON: expected a value at offset 12", e.getMessage());
        }
    }
}
