package org.rtkeras.demo.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import org.junit.Test;

/** What a phone can be handed: malformed WAVs, very short audio, outputs of any length. */
public class InputHardeningTest {
    /** A mono or multi-channel WAV with a PCM (or EXTENSIBLE PCM) fmt chunk. */
    private static byte[] wav(int channels, boolean extensible, short[] samples) {
        int fmtSize = extensible ? 40 : 16;
        ByteBuffer b = ByteBuffer.allocate(12 + 8 + fmtSize + 8 + 2 * samples.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x46464952).putInt(b.capacity() - 8).putInt(0x45564157);
        b.putInt(0x20746d66).putInt(fmtSize).putShort((short) (extensible ? 0xFFFE : 1)).putShort((short) channels)
                .putInt(16000).putInt(16000 * 2 * channels).putShort((short) (2 * channels)).putShort((short) 16);
        if (extensible) {
            b.putShort((short) 22).putShort((short) 16).putInt(0x4).putShort((short) 1); // cbSize, bits, mask, PCM GUID
            b.put(new byte[14]);
        }
        b.putInt(0x61746164).putInt(2 * samples.length);
        for (short s : samples) {
            b.putShort(s);
        }
        return b.array();
    }

    private static void assertRefused(byte[] bytes, String expected) {
        try {
            WavReader.read(bytes, "x.wav");
            fail("expected a refusal mentioning '" + expected + "'");
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("x.wav: ") && e.getMessage().contains(expected));
        }
    }

    @Test
    public void extensiblePcmIsRead() {
        WavReader audio = WavReader.read(wav(1, true, new short[] {1, -2, 3}), "x.wav");
        assertArrayEquals(new short[] {1, -2, 3}, audio.samples);
        assertEquals(16000, audio.sampleRate);
    }

    @Test(timeout = 5000)
    public void hugeAndNegativeChunkSizesAreRefusedWithoutLooping() {
        for (int size : new int[] {-8, -1, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
            byte[] bytes = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E', 'J', 'U', 'N', 'K', 0, 0, 0, 0};
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(16, size);
            assertRefused(bytes, "no data chunk");
        }
        byte[] declaredTooLong = wav(1, false, new short[] {5, 6});
        ByteBuffer.wrap(declaredTooLong).order(ByteOrder.LITTLE_ENDIAN).putInt(40, -1); // data size 0xFFFFFFFF
        assertArrayEquals(new short[] {5, 6}, WavReader.read(declaredTooLong, "x.wav").samples);
    }

    @Test
    public void otherEncodingsAndBadFieldsAreNamed() {
        byte[] floatWav = wav(1, false, new short[] {1, 2});
        floatWav[20] = 3; // WAVE_FORMAT_IEEE_FLOAT
        assertRefused(floatWav, "expected 16-bit PCM, got format 3");
        byte[] noChannels = wav(1, false, new short[] {1});
        noChannels[22] = 0;
        assertRefused(noChannels, "0 channels");
        byte[] zeroRate = wav(1, false, new short[] {1});
        ByteBuffer.wrap(zeroRate).order(ByteOrder.LITTLE_ENDIAN).putInt(24, 0);
        assertRefused(zeroRate, "sample rate 0 Hz outside the supported 8000-192000 Hz");
        ByteBuffer.wrap(zeroRate).order(ByteOrder.LITTLE_ENDIAN).putInt(24, 100);
        assertRefused(zeroRate, "sample rate 100 Hz");
        assertRefused("RIFF....WAVE".getBytes(StandardCharsets.US_ASCII), "no data chunk");
        assertRefused(new byte[] {'R', 'I', 'F', 'F'}, "not a RIFF/WAVE file");
    }

    @Test(timeout = 20000)
    public void everyTruncationAndRandomCorruptionGivesAClearErrorOrAudio() {
        byte[] good = wav(2, true, new short[] {100, -100, 200, -200, 300, -300});
        for (int length = 0; length < good.length; length++) {
            byte[] cut = new byte[length];
            System.arraycopy(good, 0, cut, 0, length);
            readOrRefuse(cut);
        }
        Random random = new Random(0);
        for (int trial = 0; trial < 20000; trial++) {
            byte[] bad = good.clone();
            for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                bad[random.nextInt(bad.length)] = (byte) random.nextInt(256);
            }
            readOrRefuse(bad);
        }
    }

    private static void readOrRefuse(byte[] bytes) {
        try {
            WavReader audio = WavReader.read(bytes, "x.wav");
            assertTrue(audio.samples.length > 0 && audio.sampleRate > 0);
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage(), e.getMessage().startsWith("x.wav: "));
        }
    }

    @Test
    public void shortAudioIsPaddedToTheModelsWindow() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ZipOutputStream zip = new ZipOutputStream(bytes);
        zip.putNextEntry(new ZipEntry(ModelMetadata.MODEL_INFO_FILE));
        zip.write("{\"sample_rate\": 16000, \"frame_length\": 400}".getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
        zip.close();
        ModelMetadata metadata = ModelMetadata.read(ByteBuffer.wrap(bytes.toByteArray()));
        assertEquals(400, metadata.minimumSamples());
        float[] padded = Pcm.padToMinimum(new float[] {0.5f, -0.5f}, metadata.minimumSamples());
        assertEquals(400, padded.length);
        assertEquals(0.5f, padded[0], 0f);
        assertEquals(0f, padded[399], 0f);
        float[] long_enough = new float[400];
        assertSame(long_enough, Pcm.padToMinimum(long_enough, 400));
    }

    @Test
    public void outputFramesComeFromTheBufferAfterInvoke() {
        FloatBuffer data = FloatBuffer.wrap(new float[] {0, 1, 2, 3, 4, 5});
        float[][] frames = LogProbabilities.fromBuffer(data, 3);
        assertEquals(2, frames.length);
        assertArrayEquals(new float[] {3, 4, 5}, frames[1], 0f);
        assertEquals(0, LogProbabilities.fromBuffer(FloatBuffer.wrap(new float[0]), 11).length);
        try {
            LogProbabilities.fromBuffer(FloatBuffer.wrap(new float[] {0, 1, 2, 3}), 3);
            fail("4 floats are not whole 3-class frames");
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("4 floats"));
        }
    }

    @Test
    public void benchmarkReportsSummariseAndJoinIntoOneArray() {
        FootprintReport ok = new FootprintReport().runtime("LiteRT 2.3.0", 2, 2.0, 3, 5.0, new double[] {30, 10, 20});
        assertEquals("2 thread(s): median 20.0 ms per 2.0 s, real-time factor 0.010", ok.summary());
        FootprintReport failed = new FootprintReport().failed("invoke", "boom", 4, 2.0, 20, 3);
        assertEquals("4 thread(s): failed, invoke: boom", failed.summary());
        String json = FootprintReport.toJson(java.util.Arrays.asList(ok, failed));
        assertTrue(json, json.startsWith("[") && json.indexOf("\"threads\": 2") < json.indexOf("\"threads\": 4"));
    }
}
