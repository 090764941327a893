package org.rtkeras.demo.core;

/**
 * End-of-utterance detection for the recorder: 20 ms frames, speech when a frame is 12 dB
 * above the noise floor and above -55 dBFS. The floor follows the quietest frames (it
 * drops at once and rises by 1 dB/s) and ignores digital silence (below -90 dBFS: the zeros
 * some devices deliver first, or a muted microphone). The utterance has ended once 100 ms
 * of speech were heard and then {@code trailingSilenceMs} of non-speech followed; only 60 ms
 * of speech in a row (not a click) counts as talking again. Feed it the chunks in order.
 */
public final class EnergyVad {
    private static final double SPEECH_ABOVE_FLOOR_DB = 12;
    private static final double MIN_SPEECH_DBFS = -55;
    /** Speech heard for this long (in a row) starts an utterance. */
    public static final int MIN_SPEECH_MS = 100;
    /** The analysis frame; UtteranceSegmenter feeds it whole frames to place an endpoint exactly. */
    public static final int FRAME_MS = 20;
    private static final double DIGITAL_SILENCE_DBFS = -90;
    private static final double FLOOR_RISE_DB_PER_FRAME = 0.02;
    private static final int RESUME_FRAMES = 3;

    private final int frameSamples;
    private final int minSpeechFrames;
    private final int trailingFrames;
    private double floorDb;
    private long floorFrames;
    private double sum;
    private int filled;
    private int speechRun;
    private boolean heard;
    private int silentFrames;
    private long frames;
    private boolean ended;

    public EnergyVad(int sampleRate, int trailingSilenceMs) {
        if (sampleRate <= 0 || trailingSilenceMs <= 0) {
            throw new IllegalArgumentException("sample rate and trailing silence must be positive");
        }
        frameSamples = sampleRate * FRAME_MS / 1000;
        minSpeechFrames = MIN_SPEECH_MS / FRAME_MS;
        trailingFrames = Math.max(1, trailingSilenceMs / FRAME_MS);
    }

    /** Takes the next {@code n} samples; true once the utterance has ended (and from then on). */
    public boolean accept(short[] chunk, int n) {
        for (int i = 0; i < n && !ended; i++) {
            sum += (double) chunk[i] * chunk[i];
            if (++filled == frameSamples) {
                frame(10 * Math.log10(Math.max(sum / frameSamples, 1e-3) / (32768.0 * 32768.0)));
                sum = 0;
                filled = 0;
            }
        }
        return ended;
    }

    private void frame(double db) {
        frames++;
        if (db > DIGITAL_SILENCE_DBFS) {
            floorDb = floorFrames++ == 0 ? db : Math.min(db, floorDb + FLOOR_RISE_DB_PER_FRAME);
        }
        boolean speech = floorFrames > 0 && db > MIN_SPEECH_DBFS && db > floorDb + SPEECH_ABOVE_FLOOR_DB;
        speechRun = speech ? speechRun + 1 : 0;
        if (!heard) {
            heard = speechRun >= minSpeechFrames;
        } else if (speechRun >= RESUME_FRAMES) {
            silentFrames = 0;
        } else if (!speech) {
            ended = ++silentFrames >= trailingFrames;
        }
    }

    /** True once at least 100 ms of speech was heard. */
    public boolean heardSpeech() {
        return heard;
    }

    /** Seconds of audio taken so far (whole frames). */
    public double seconds() {
        return frames * FRAME_MS / 1000.0;
    }
}
