package org.rtkeras.demo.core;

import static org.junit.Assert.assertEquals;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

import org.junit.Test;

/**
 * Parity with the Python side: fixtures written by tests/test_android_core.py from the real
 * .tflite run by ai-edge-litert on real FSDD audio (directory in -Drt_keras.golden.dir).
 */
public class GoldenTest {
    private static File dir() {
        String path = System.getProperty("rt_keras.golden.dir");
        if (path == null) {
            throw new IllegalStateException("-Drt_keras.golden.dir is not set: the fixtures are written by "
                    + "tests/test_android_core.py (make test), which then runs these tests");
        }
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
        float[] got = Pcm.modelInput(wav.samples, wav.sampleRate, 16000);
        assertEquals(expected.length, got.length);
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
        assertEquals(16000, metadata.sampleRate());
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
}
