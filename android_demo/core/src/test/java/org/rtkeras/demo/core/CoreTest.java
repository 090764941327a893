package org.rtkeras.demo.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.Test;

public class CoreTest {
    private static final List<String> VOCABULARY = Arrays.asList(
            "<blank>", "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine");

    /** A model's associated-file archive (what tflite-support appends) with these files. */
    private static ByteBuffer modelWithFiles(String[] names, String[] texts) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ZipOutputStream zip = new ZipOutputStream(bytes);
        for (int i = 0; i < names.length; i++) {
            zip.putNextEntry(new ZipEntry(names[i]));
            zip.write(texts[i].getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        zip.close();
        return ByteBuffer.wrap(bytes.toByteArray());
    }

    @Test
    public void theModelsMetadataSetsTheSampleRateTheAudioIsResampledTo() throws IOException {
        ModelMetadata metadata = ModelMetadata.read(modelWithFiles(
                new String[] {"vocabulary.txt", "rt_keras_model.json"},
                new String[] {"<blank>\nyes\nno\n", "{\"mode\": \"qat-int8\", \"sample_rate\": 8000}"}));
        assertEquals(Arrays.asList("<blank>", "yes", "no"), metadata.vocabulary());
        assertEquals(8000, metadata.sampleRate());
        short[] oneSecondAt16k = new short[16000];
        assertEquals(8000, Pcm.modelInput(oneSecondAt16k, 16000, metadata.sampleRate()).length);
        // A model without rt-keras metadata falls back to 16 kHz; one without a vocabulary says so.
        ModelMetadata bare = ModelMetadata.read(modelWithFiles(new String[0], new String[0]));
        assertEquals(Pcm.DEFAULT_SAMPLE_RATE, bare.sampleRate());
        try {
            bare.vocabulary();
            fail("a model without vocabulary.txt must be refused");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("rt-keras convert"));
        }
    }

    @Test
    public void pcmToFloatDividesBy32767() {
        float[] out = Pcm.toFloat(new short[] {0, 32767, -32767, 16384});
        assertArrayEquals(new float[] {0f, 1f, -1f, 16384f / 32767f}, out, 0f);
    }

    @Test
    public void resampleDoublesLengthAndInterpolates() {
        float[] out = Pcm.resample(new float[] {0f, 1f, 0f}, 8000, 16000);
        assertArrayEquals(new float[] {0f, 0.5f, 1f, 0.5f, 0f, 0f}, out, 1e-7f);
        assertArrayEquals(new float[] {1f, 2f}, Pcm.resample(new float[] {1f, 2f}, 16000, 16000), 0f);
    }

    @Test(expected = IllegalArgumentException.class)
    public void resampleRejectsBadRates() {
        Pcm.resample(new float[] {1f}, 0, 16000);
    }

    @Test
    public void ringBufferKeepsTheNewestSamplesInOrder() {
        RingBuffer ring = new RingBuffer(4);
        ring.write(new short[] {1, 2, 3}, 3);
        assertArrayEquals(new short[] {1, 2, 3}, ring.snapshot());
        ring.write(new short[] {4, 5, 6}, 3);
        assertArrayEquals(new short[] {3, 4, 5, 6}, ring.snapshot());
        assertEquals(6, ring.totalWritten());
        ring.clear();
        assertEquals(0, ring.size());
    }

    @Test
    public void ctcMergesRepeatsAndDropsBlanks() {
        // frames: blank, four, four, blank, four, one -> "four four one"
        int[] best = {0, 5, 5, 0, 5, 2};
        float[][] logProbs = new float[best.length][VOCABULARY.size()];
        for (int t = 0; t < best.length; t++) {
            Arrays.fill(logProbs[t], -10f);
            logProbs[t][best[t]] = -0.1f;
        }
        CtcGreedyDecoder decoder = new CtcGreedyDecoder(VOCABULARY);
        assertEquals("four four one", decoder.decode(logProbs));
        assertArrayEquals(new int[] {5, 5}, decoder.decodeIds(logProbs, 5));
    }

    @Test
    public void theConfidenceFloorDropsALabelNeverProbableEnoughOnAnyFrameOfItsRun() {
        // the cases of tests/model/test_ctc.py: labels 2, 2, blank, 3, 3, blank, 1 at these probabilities
        int[] best = {2, 2, 0, 3, 3, 0, 1};
        double[] probability = {0.9, 0.4, 0.8, 0.45, 0.55, 0.9, 0.42};
        List<String> vocabulary = Arrays.asList("<blank>", "a", "b", "c");
        float[][] logProbs = new float[best.length][4];
        for (int t = 0; t < best.length; t++) {
            Arrays.fill(logProbs[t], (float) Math.log(0.05));
            logProbs[t][best[t]] = (float) Math.log(probability[t]);
        }
        assertEquals("b c a", new CtcGreedyDecoder(vocabulary).decode(logProbs));
        assertEquals("b c a", new CtcGreedyDecoder(vocabulary, 0.4).decode(logProbs));
        assertEquals("b c", new CtcGreedyDecoder(vocabulary, 0.5).decode(logProbs)); // c reaches 0.55 on its 2nd frame
        assertEquals("b", new CtcGreedyDecoder(vocabulary, 0.6).decode(logProbs));
        assertEquals("", new CtcGreedyDecoder(vocabulary, 0.95).decode(logProbs));
        assertArrayEquals(new int[] {2, 3}, new CtcGreedyDecoder(vocabulary, 0.4).decodeIds(logProbs, 6));
        try {
            new CtcGreedyDecoder(vocabulary, 1.0);
            fail("a floor of 1 would drop every label");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("not in [0, 1)"));
        }
    }

    @Test
    public void theDecodingFloorComesFromTheModelInfoAndIsZeroInOlderFiles() throws IOException {
        ModelMetadata gated = ModelMetadata.read(modelWithFiles(new String[] {"rt_keras_model.json"},
                new String[] {"{\"min_token_probability\": 0.4}"}));
        assertEquals(0.4, gated.minTokenProbability(), 0);
        ModelMetadata older = ModelMetadata.read(modelWithFiles(new String[] {"rt_keras_model.json"},
                new String[] {"{\"mode\": \"qat-int8\"}"}));
        assertEquals(0, older.minTokenProbability(), 0);
        ModelMetadata damaged = ModelMetadata.read(modelWithFiles(new String[] {"rt_keras_model.json"},
                new String[] {"{\"min_token_probability\": 1.5}"}));
        try {
            damaged.minTokenProbability();
            fail("a floor outside [0, 1) must be refused");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("min_token_probability"));
        }
    }

    @Test
    public void charactersAndSubwordsJoinAtTheWordBoundaryMark() {
        // "▁" starts a word; a character vocabulary also emits it alone, between words
        assertEquals("it's on", CtcGreedyDecoder.join(Arrays.asList("i", "t", "'", "s", "\u2581", "o", "n"), true));
        assertEquals("turn on the light", CtcGreedyDecoder.join(
                Arrays.asList("\u2581t", "ur", "n", "\u2581", "\u2581on", "\u2581the", "\u2581l", "ight", "\u2581"), true));
        assertEquals("four one", CtcGreedyDecoder.join(Arrays.asList("four", "one"), false));
        // a word vocabulary is recognised by having no mark: its tokens are joined by spaces
        List<String> chars = Arrays.asList("<blank>", "\u2581", "a", "b");
        float[][] logProbs = new float[4][4];
        int[] best = {2, 1, 3, 3};
        for (int t = 0; t < best.length; t++) {
            Arrays.fill(logProbs[t], -10f);
            logProbs[t][best[t]] = -0.1f;
        }
        assertEquals("a b", new CtcGreedyDecoder(chars).decode(logProbs));
    }

    @Test
    public void ctcRejectsAScoreRowOfTheWrongWidth() {
        try {
            new CtcGreedyDecoder(VOCABULARY).decode(new float[][] {{0f, 1f}});
            fail();
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains("vocabulary has 11"));
        }
    }

    @Test
    public void vocabularyParsesOneLabelPerLine() {
        assertEquals(Arrays.asList("<blank>", "zero", "one"), Vocabulary.parse("<blank>\nzero\none\n"));
    }

    @Test
    public void percentilesMatchNumpy() {
        double[] values = {4, 1, 3, 2, 10};
        assertEquals(3.0, Statistics.median(values), 1e-12);
        assertEquals(7.6, Statistics.percentile(values, 90), 1e-12); // numpy.percentile([...], 90)
        assertEquals(1.0, Statistics.min(values), 1e-12);
    }

    @Test
    public void procStatusReadsTheMemoryFields() {
        String status = "Name:\tjava\nVmHWM:\t  2092 kB\nVmRSS:\t  2000 kB\nRssAnon:\t 156 kB\nRssFile:\t1936 kB\n";
        Map<String, Long> memory = ProcStatus.parse(status);
        assertEquals(Long.valueOf(2000), memory.get("rss_kb"));
        assertEquals(Long.valueOf(2092), memory.get("hwm_kb"));
        assertEquals(Long.valueOf(1936), memory.get("rss_file_kb"));
        assertEquals(Long.valueOf(156), memory.get("rss_anon_kb"));
        assertNull(ProcStatus.parse("Name:\tx\n").get("rss_kb"));
    }

    @Test
    public void wavReaderReadsStereoPcm16AsMono() {
        byte[] wav = {
            'R', 'I', 'F', 'F', 44, 0, 0, 0, 'W', 'A', 'V', 'E',
            'f', 'm', 't', ' ', 16, 0, 0, 0, 1, 0, 2, 0, (byte) 0x40, (byte) 0x1f, 0, 0, 0, 0, 0, 0, 4, 0, 16, 0,
            'd', 'a', 't', 'a', 8, 0, 0, 0, 10, 0, 20, 0, (byte) 0xf6, (byte) 0xff, (byte) 0xec, (byte) 0xff,
        };
        WavReader audio = WavReader.read(wav, "test.wav");
        assertEquals(8000, audio.sampleRate);
        assertArrayEquals(new short[] {15, -15}, audio.samples);
    }

    @Test
    public void footprintReportIsWrittenInTheSharedSchema() throws java.io.IOException {
        Map<String, Long> status = ProcStatus.parse("VmRSS:\t 51200 kB\nVmHWM:\t 60000 kB\n");
        FootprintReport report = new FootprintReport()
                .model("/data/app/model-qat-int8.tflite", 1331347L,
                        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "rt", "0.1.0", "qat-int8")
                .metadata(16000, VOCABULARY)
                .memory("before_load", status, 40000L, 20000L)
                .memory("after_load", status, 41000L, 21000L)
                .memory("after_allocate", status, 42000L, 22000L)
                .memory("after_runs", status, 43000L, 23000L)
                .runtime("LiteRT 1.4.0", 2, 2.0, 3, 12.5, new double[] {30.0, 31.0, 35.0})
                .device("Pixel 8", "Tensor G3", "arm64-v8a", "Android 14");
        String json = report.toJson();
        assertTrue(json.contains("\"schema\": \"rt-keras-footprint/1\""));
        assertTrue(json.contains("\"median\": 31.000000"));
        String out = System.getProperty("rt_keras.report.out");
        if (out != null && !out.isEmpty()) { // validated against the JSON Schema by tests/test_android_core.py
            java.nio.file.Files.write(new java.io.File(out).toPath(), json.getBytes("UTF-8"));
        }
    }

    @Test
    public void jsonWriterEscapesAndNests() {
        Map<String, Object> map = new java.util.LinkedHashMap<String, Object>();
        map.put("a", "x\"y");
        map.put("b", Arrays.<Object>asList(1, 2.5, null, true));
        assertEquals("{\n  \"a\": \"x\\\"y\",\n  \"b\": [1, 2.500000, null, true]\n}", Json.write(map));
    }
}
