package org.rtkeras.demo.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.Assume;
import org.junit.Test;

/**
 * Parity with the Python side: fixtures written by tests/test_android_core.py from the real
 * .tflite run by ai-edge-litert on real FSDD audio (directory in -Drt_keras.golden.dir).
 * Skipped (not failed) without fixtures, so `./gradlew :core:test` passes on its own.
 */
public class GoldenTest {
    private static File dir() {
        String path = System.getProperty("rt_keras.golden.dir");
        Assume.assumeTrue("-Drt_keras.golden.dir is not set: the fixtures are written by "
                + "tests/test_android_core.py (make test), which then runs these tests", path != null && !path.isEmpty());
        return new File(path);
    }

    private static String read(File file) throws IOException {
        return new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8);
    }

    private static float[] floats(String text) {
        String[] parts = text.trim().split("\\s+");
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Float.parseFloat(parts[i]);
        }
        return out;
    }

    @Test
    public void pcmConversionMatchesNumpy() throws IOException {
        File dir = dir();
        WavReader wav = WavReader.read(Files.readAllBytes(new File(dir, "audio.wav").toPath()), "audio.wav");
        float[] expected = floats(read(new File(dir, "model_input.txt")));
        int modelRate = ModelMetadata.read(java.nio.ByteBuffer.wrap(
                Files.readAllBytes(new File(dir, "model.tflite").toPath()))).sampleRate();
        float[] got = Pcm.modelInput(wav.samples, wav.sampleRate, modelRate);
        assertEquals(expected.length, got.length);
        for (int i = 0; i < got.length; i++) {
            assertEquals("sample " + i, expected[i], got[i], 1e-6f);
        }
    }

    /**
     * A real FSDD recording between 1 s and 3 s of quiet noise (the first 0.3 s digital zeros,
     * as some devices deliver them; 20 ms clicks every 300 ms after the speech), fed in 100 ms chunks.
     */
    @Test
    public void vadEndsTheUtteranceAfterTheRealSpeechAndItsTrailingSilence() throws IOException {
        WavReader wav = WavReader.read(Files.readAllBytes(new File(dir(), "audio.wav").toPath()), "audio.wav");
        int rate = wav.sampleRate;
        short[] audio = new short[rate + wav.samples.length + 3 * rate];
        java.util.Random random = new java.util.Random(0);
        for (int i = 0; i < audio.length; i++) {
            audio[i] = (short) (random.nextGaussian() * 30); // about -60 dBFS of background noise
        }
        java.util.Arrays.fill(audio, 0, 3 * rate / 10, (short) 0);
        System.arraycopy(wav.samples, 0, audio, rate, wav.samples.length);
        double clipEnd = 1.0 + wav.samples.length / (double) rate;
        for (int click = (int) (clipEnd * rate) + rate / 10; click + rate / 50 < audio.length; click += 3 * rate / 10) {
            for (int i = click; i < click + rate / 50; i++) {
                audio[i] = (short) (i % 2 == 0 ? 8000 : -8000);
            }
        }
        int trailingMs = 700;
        EnergyVad vad = new EnergyVad(rate, trailingMs);
        int chunk = rate / 10;
        double endedAt = -1;
        for (int at = 0; at < audio.length && endedAt < 0; at += chunk) {
            short[] part = java.util.Arrays.copyOfRange(audio, at, Math.min(audio.length, at + chunk));
            if (vad.accept(part, part.length)) {
                endedAt = vad.seconds();
            }
        }
        assertTrue("speech heard", vad.heardSpeech());
        assertTrue("ended at " + endedAt + " s; the clip ends at " + clipEnd + " s",
                endedAt > clipEnd && endedAt <= clipEnd + trailingMs / 1000.0 + 0.25);

        EnergyVad quiet = new EnergyVad(rate, trailingMs);
        short[] noiseOnly = java.util.Arrays.copyOfRange(audio, 0, rate);
        for (int i = 0; i < 5; i++) {
            assertTrue("background noise alone never ends an utterance", !quiet.accept(noiseOnly, noiseOnly.length));
        }
    }

    @Test
    public void benchmarkSignalIsTheHostsSampleForSample() throws IOException {
        float[] expected = floats(read(new File(dir(), "benchmark_signal.txt")));
        float[] got = BenchmarkSignal.generate(expected.length, 16000);
        for (int i = 0; i < got.length; i++) {
            assertEquals("sample " + i, expected[i], got[i], 1e-6f);
        }
    }

    @Test
    public void metadataOfTheRealModelGivesTheVocabularyAndSampleRate() throws IOException {
        File dir = dir();
        byte[] model = Files.readAllBytes(new File(dir, "model.tflite").toPath());
        ModelMetadata metadata = ModelMetadata.read(java.nio.ByteBuffer.wrap(model));
        assertEquals(Vocabulary.parse(read(new File(dir, "vocabulary.txt"))), metadata.vocabulary());
        assertEquals(Integer.parseInt(read(new File(dir, "sample_rate.txt")).trim()), metadata.sampleRate());
    }

    @Test
    public void decoderReproducesThePythonTranscript() throws IOException {
        File dir = dir();
        List<String> vocabulary = Vocabulary.parse(read(new File(dir, "vocabulary.txt")));
        String[] lines = read(new File(dir, "log_probs.txt")).trim().split("\n");
        float[][] logProbs = new float[lines.length][];
        for (int t = 0; t < lines.length; t++) {
            logProbs[t] = floats(lines[t]);
        }
        assertEquals(read(new File(dir, "transcript.txt")).trim(), new CtcGreedyDecoder(vocabulary).decode(logProbs));
    }

    /**
     * The decoder on a real trained model's output (committed fixture from
     * benchmarks/android_golden.py; no audio): the same, non-empty transcript as Python. Runs
     * everywhere, also in `./gradlew :core:test`.
     */
    @Test
    public void decoderReadsTheDemoModelsOutputLikePython() throws IOException {
        checkFixture("demo-golden.json");
    }

    /** The same with a character vocabulary: the voice-command model of configs/commands.yaml. */
    @Test
    public void decoderReadsTheCommandModelsCharactersLikePython() throws IOException {
        checkFixture("commands-golden.json");
    }

    /**
     * The same with a sentencepiece subword vocabulary (fixture from tests/test_vocabulary.py:
     * log-probabilities whose best path spells a phrase, with repeats and blanks).
     */
    @Test
    public void decoderReadsSubwordsLikePython() throws IOException {
        checkFixture("subword-golden.json");
    }

    private static void checkFixture(String name) throws IOException {
        InputStream in = GoldenTest.class.getResourceAsStream(name);
        Assume.assumeTrue(name + " is not on the class path", in != null);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        for (int n; (n = in.read(chunk)) > 0; ) {
            bytes.write(chunk, 0, n);
        }
        in.close();
        String json = new String(bytes.toByteArray(), StandardCharsets.UTF_8);
        Matcher transcript = Pattern.compile("\"transcript\": \"([^\"]*)\"").matcher(json);
        Matcher vocabularyList = Pattern.compile("\"vocabulary\": \\[([^\\]]*)\\]").matcher(json);
        Matcher rows = Pattern.compile("\\[([-0-9.e, ]+)\\]").matcher(json.substring(json.indexOf("\"log_probs\"")));
        assertTrue(name + ": no transcript or vocabulary", transcript.find() && vocabularyList.find());
        List<String> vocabulary = new ArrayList<String>();
        for (String token : vocabularyList.group(1).split("\", ")) {
            vocabulary.add(token.trim().replaceAll("^\"|\"$", ""));
        }
        List<float[]> frames = new ArrayList<float[]>();
        while (rows.find()) {
            frames.add(floats(rows.group(1).replace(",", " ")));
        }
        assertTrue(name + ": expected a non-empty transcript in the fixture", !transcript.group(1).isEmpty());
        assertEquals(name, transcript.group(1), new CtcGreedyDecoder(vocabulary).decode(frames.toArray(new float[0][])));
    }
}
