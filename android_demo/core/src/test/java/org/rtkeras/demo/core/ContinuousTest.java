package org.rtkeras.demo.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.Test;

/**
 * Continuous recognition without a phone: UtteranceSegmenter cuts a real multi-utterance
 * recording (continuous-fixture.wav: three FSDD digits with pauses, CC BY-SA 4.0, Zohar
 * Jackson and contributors; made by benchmarks/android_continuous_fixture.py) into one
 * utterance per digit, whatever block size the microphone delivers; the history and the
 * vocabulary hint the screen shows.
 */
public class ContinuousTest {
    static final int TRAILING_MS = 800;
    static final int PRE_ROLL_MS = 300;

    private static byte[] resource(String name) throws IOException {
        InputStream in = ContinuousTest.class.getResourceAsStream(name);
        assertNotNull(name + " is not on the class path", in);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] block = new byte[8192];
        for (int n; (n = in.read(block)) > 0; ) {
            bytes.write(block, 0, n);
        }
        in.close();
        return bytes.toByteArray();
    }

    /** [start, end) of each digit in the fixture, in samples. */
    @SuppressWarnings("unchecked")
    private static long[][] marks() throws IOException {
        Map<String, Object> fixture = (Map<String, Object>) JsonReader.parse(
                new String(resource("continuous-fixture.json"), StandardCharsets.UTF_8));
        List<Object> utterances = (List<Object>) fixture.get("utterances");
        long[][] out = new long[utterances.size()][];
        for (int i = 0; i < out.length; i++) {
            Map<String, Object> u = (Map<String, Object>) utterances.get(i);
            out[i] = new long[] {((Double) u.get("start")).longValue(), ((Double) u.get("end")).longValue()};
        }
        return out;
    }

    private static List<UtteranceSegmenter.Utterance> segment(short[] audio, int rate, int block) {
        UtteranceSegmenter segmenter = new UtteranceSegmenter(rate, TRAILING_MS, PRE_ROLL_MS, 20);
        List<UtteranceSegmenter.Utterance> found = new ArrayList<UtteranceSegmenter.Utterance>();
        for (int at = 0; at < audio.length; at += block) {
            int n = Math.min(block, audio.length - at);
            found.addAll(segmenter.accept(Arrays.copyOfRange(audio, at, at + n), n));
        }
        UtteranceSegmenter.Utterance rest = segmenter.flush();
        if (rest != null) {
            found.add(rest);
        }
        return found;
    }

    @Test
    public void eachDigitOfARealRecordingBecomesItsOwnUtterance() throws IOException {
        WavReader wav = WavReader.read(resource("continuous-fixture.wav"), "continuous-fixture.wav");
        assertEquals(16000, wav.sampleRate);
        long[][] marks = marks();
        assertEquals(3, marks.length);
        // 100 ms AudioRecord reads (what AudioRecorder uses), 10 ms, a VAD frame, odd sizes, all at once.
        for (int block : new int[] {1600, 160, 320, 1234, 7, wav.samples.length}) {
            List<UtteranceSegmenter.Utterance> found = segment(wav.samples, wav.sampleRate, block);
            assertEquals("block " + block, marks.length, found.size());
            for (int i = 0; i < marks.length; i++) {
                UtteranceSegmenter.Utterance u = found.get(i);
                String where = "block " + block + ", utterance " + i;
                assertFalse(where + ": closed by its endpoint, not cut", u.cut);
                assertTrue(where + " starts before its digit", u.startSample <= marks[i][0]);
                assertTrue(where + " starts at most pre-roll + 100 ms before it",
                        marks[i][0] - u.startSample <= (PRE_ROLL_MS + 100 + 20) * 16);
                assertTrue(where + " ends after its digit", u.endSample >= marks[i][1]);
                // The endpoint: TRAILING_MS after the speech stopped, which is up to 200 ms before the
                // clip's end (FSDD clips end in a quiet tail the VAD does not count as speech).
                assertTrue(where + " ends at its endpoint", u.endSample - marks[i][1] >= (TRAILING_MS - 200) * 16
                        && u.endSample - marks[i][1] <= (TRAILING_MS + 200) * 16);
                if (i + 1 < marks.length) {
                    assertTrue(where + " ends before the next digit", u.endSample < marks[i + 1][0]);
                }
                assertArrayEquals(where + ": the recording's own samples",
                        Arrays.copyOfRange(wav.samples, (int) u.startSample, (int) u.endSample), u.samples);
            }
            for (int i = 1; i < found.size(); i++) {
                assertTrue(found.get(i).startSample >= found.get(i - 1).endSample); // never overlapping
            }
        }
    }

    @Test
    public void silenceAloneMakesNoUtteranceAndEndlessNoiseIsCut() {
        short[] quiet = new short[16000 * 5];
        java.util.Random random = new java.util.Random(1);
        for (int i = 0; i < quiet.length; i++) {
            quiet[i] = (short) (random.nextGaussian() * 30);
        }
        assertTrue(segment(quiet, 16000, 1600).isEmpty());
        // A loud steady tone that never pauses: closed at the 20 s limit and marked cut; the next
        // utterance's VAD starts its noise floor at the tone, so the tone opens no further one.
        short[] tone = new short[16000 * 45];
        for (int i = 0; i < tone.length; i++) {
            tone[i] = (short) (8000 * Math.sin(2 * Math.PI * 440 * i / 16000.0) + random.nextGaussian() * 30);
        }
        for (int i = 0; i < 16000; i++) {
            tone[i] = (short) (random.nextGaussian() * 30); // a second of room noise first
        }
        List<UtteranceSegmenter.Utterance> found = segment(tone, 16000, 1600);
        assertEquals(1, found.size());
        assertTrue(found.get(0).cut);
        assertEquals(20 * 16000, found.get(0).samples.length);
    }

    @Test
    public void stoppingMidUtteranceKeepsWhatWasSaid() throws IOException {
        WavReader wav = WavReader.read(resource("continuous-fixture.wav"), "continuous-fixture.wav");
        long[][] marks = marks();
        int stop = (int) marks[0][1] + 1600; // 100 ms after the first digit, before its endpoint
        UtteranceSegmenter segmenter = new UtteranceSegmenter(16000, TRAILING_MS, PRE_ROLL_MS, 20);
        assertTrue(segmenter.accept(Arrays.copyOf(wav.samples, stop), stop).isEmpty());
        assertTrue(segmenter.inUtterance());
        UtteranceSegmenter.Utterance u = segmenter.flush();
        assertNotNull(u);
        assertTrue(u.cut);
        assertTrue(u.startSample <= marks[0][0] && u.endSample == stop);
        assertNull(segmenter.flush());
    }

    /**
     * A stand-in streaming model: one frame per 20 ms chunk, "speech" where the chunk is louder
     * than -50 dBFS, blank elsewhere; its state counts the chunks since the utterance started,
     * so a missing reset between utterances shows. Throws on chunk {@code failAt} (0: never).
     */
    static final class LoudnessModel implements StreamingStep {
        final List<Float> countsSeen = new ArrayList<Float>();
        final int failAt;
        int calls;

        LoudnessModel(int failAt) {
            this.failAt = failAt;
        }

        @Override
        public float[][] step(float[] chunk, Map<String, float[]> state, Map<String, float[]> nextState) {
            if (++calls == failAt) {
                throw new IllegalStateException("chunk " + calls + " failed");
            }
            float count = state.get("count")[0];
            countsSeen.add(count);
            nextState.put("count_out", new float[] {count + 1});
            double sum = 0;
            for (float x : chunk) {
                sum += x * x;
            }
            boolean loud = Math.sqrt(sum / chunk.length) > 0.003; // the fixture: noise -60 dBFS, the quietest digit -42
            return new float[][] {loud ? new float[] {-10f, 0f} : new float[] {0f, -10f}};
        }
    }

    static final StreamingLayout LAYOUT = StreamingLayout.fromModelInfo("{\"streaming\": {\"chunk_samples\": 320, "
            + "\"algorithmic_latency_ms\": 20.0, \"state\": [{\"name\": \"count\", \"output\": \"count_out\", "
            + "\"shape\": [1]}]}}");

    /** Records what the recognizer reports. */
    static final class Recorded implements ContinuousRecognizer.Listener {
        final List<String> partials = new ArrayList<String>();
        final List<String> texts = new ArrayList<String>();
        final List<UtteranceSegmenter.Utterance> utterances = new ArrayList<UtteranceSegmenter.Utterance>();
        final List<RuntimeException> errors = new ArrayList<RuntimeException>();

        @Override
        public void partial(String text) {
            partials.add(text);
        }

        @Override
        public void finished(UtteranceSegmenter.Utterance utterance, String text) {
            utterances.add(utterance);
            texts.add(text);
        }

        @Override
        public void failed(RuntimeException error) {
            errors.add(error);
        }
    }

    private static Recorded listen(short[] audio, StreamingStep model, int block) {
        Recorded recorded = new Recorded();
        StreamingTranscriber live = model == null ? null
                : new StreamingTranscriber(LAYOUT, model, Arrays.asList("<blank>", "speech"));
        ContinuousRecognizer recognizer = new ContinuousRecognizer(
                new UtteranceSegmenter(16000, TRAILING_MS, PRE_ROLL_MS, 20), live, recorded);
        for (int at = 0; at < audio.length; at += block) {
            int n = Math.min(block, audio.length - at);
            recognizer.accept(Arrays.copyOfRange(audio, at, at + n), n);
        }
        recognizer.stop();
        return recorded;
    }

    @Test
    public void aStreamingModelTranscribesEachUtteranceFromAFreshState() throws IOException {
        WavReader wav = WavReader.read(resource("continuous-fixture.wav"), "continuous-fixture.wav");
        for (int block : new int[] {1600, 333}) {
            LoudnessModel model = new LoudnessModel(0);
            Recorded recorded = listen(wav.samples, model, block);
            assertEquals(3, recorded.texts.size());
            for (String text : recorded.texts) { // each digit heard, in its own utterance (a pause inside one repeats the word)
                assertTrue(text, text.matches("speech( speech)*"));
            }
            assertTrue(recorded.partials.contains("speech"));
            assertTrue(recorded.partials.contains("")); // before the first word of each utterance
            assertTrue(recorded.errors.isEmpty());
            int resets = 0;
            for (float count : model.countsSeen) {
                resets += count == 0 ? 1 : 0;
            }
            // A fresh state at the start and after each of the three endpoints (the recording goes on after the last).
            assertEquals("block " + block, 4, resets);
            // Every whole chunk ran once, plus at most one zero-padded last chunk per endpoint.
            int whole = wav.samples.length / 320;
            assertTrue(model.countsSeen.size() + " chunks", model.countsSeen.size() >= whole
                    && model.countsSeen.size() <= whole + 3);
        }
    }

    @Test
    public void withoutAStreamingModelEachUtteranceIsHandedOnWhole() throws IOException {
        WavReader wav = WavReader.read(resource("continuous-fixture.wav"), "continuous-fixture.wav");
        Recorded recorded = listen(wav.samples, null, 1600);
        assertEquals(Arrays.asList((String) null, null, null), recorded.texts);
        assertEquals(3, recorded.utterances.size());
        assertTrue(recorded.partials.isEmpty());
    }

    @Test
    public void aFailingChunkStopsLiveTranscriptionNotSegmentation() throws IOException {
        WavReader wav = WavReader.read(resource("continuous-fixture.wav"), "continuous-fixture.wav");
        LoudnessModel model = new LoudnessModel(5);
        Recorded recorded = listen(wav.samples, model, 1600);
        assertEquals(1, recorded.errors.size());
        assertEquals(3, recorded.utterances.size());
        for (String text : recorded.texts) {
            assertEquals("(live transcription failed)", text);
        }
        assertEquals(5, model.calls); // no chunk ran after the failure
    }

    @Test
    public void historyKeepsFinishedUtterancesForScrollingAndCopying() {
        TranscriptHistory history = new TranscriptHistory(3);
        history.add("four", 1.2, "rt-streaming.tflite, 2 threads");
        history.add("  ", 0.9, null);
        history.add("one", 1.04, "");
        assertEquals("1. four (1.2 s)\n2. (nothing recognised) (0.9 s)\n3. one (1.0 s)\n", history.toText());
        assertEquals("four\none\n", history.transcripts());
        history.add("seven", 1.5, "");
        assertEquals(3, history.size());
        assertEquals(2, history.entries().get(0).number); // the oldest dropped, numbering goes on
        assertEquals("4. seven (1.5 s)", history.entries().get(2).line());
        assertEquals("rt-streaming.tflite, 2 threads", new TranscriptHistory(1).add("x", 1, "rt-streaming.tflite, 2 threads").detail);
        history.clear();
        assertEquals("", history.toText());
    }

    @Test
    public void theScreenSaysWhatTheModelRecognises() throws IOException {
        List<String> digits = Arrays.asList("<blank>", "zero", "one", "two", "three", "four", "five", "six", "seven",
                "eight", "nine");
        assertEquals("Say: zero, one, two, three, four, five, six, seven, eight, nine (the words this model knows; "
                + "several in a row work).", VocabularyHint.describe(digits));
        List<String> letters = Arrays.asList("<blank>", "\u2581", "a", "b", "c");
        assertEquals("Spells what it hears with the 3 characters abc: say words like those it was trained on.",
                VocabularyHint.describe(letters));
        List<String> pieces = Arrays.asList("<blank>", "<unk>", "\u2581", "l", "\u2581time", "on");
        assertEquals("Open vocabulary of 3 word pieces: say words like those it was trained on.",
                VocabularyHint.describe(pieces));
        List<String> many = new ArrayList<String>();
        many.add("<blank>");
        for (int i = 0; i < 40; i++) {
            many.add("word" + i);
        }
        String hint = VocabularyHint.describe(many);
        assertTrue(hint, hint.startsWith("Say words from its 40-word vocabulary, e.g. word0, word1"));
        assertTrue(hint, hint.length() < 120);
    }
}
