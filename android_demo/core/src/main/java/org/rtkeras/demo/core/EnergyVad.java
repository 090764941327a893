package org.rtkeras.demo.core;

/**
 * End-of-utterance detection for the recorder: 20 ms frames, speech when a frame is 12 dB
 * above the quietest frame so far (the noise floor) and above -55 dBFS; the utterance has
 * ended once speech was heard for 100 ms and then {@code trailingSilenceMs} of non-speech
 * followed. Feed it the recorder's chunks in order.
 */
public final class EnergyVad {
    private static final double SPEECH_ABOVE_FLOOR_DB = 12;
    private static final double MIN_SPEECH_DBFS = -55;
    private static final int MIN_SPEECH_MS = 100;
    private static final int FRAME_MS = 20;

    private final int frameSamples;
    private final int minSpeechFrames;
    private final int trailingFrames;
    private double floorDb = 0;
    private double sum;
    private int filled;
    private int speechFrames;
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
        floorDb = frames == 1 ? db : Math.min(floorDb, db);
        boolean speech = db > MIN_SPEECH_DBFS && db > floorDb + SPEECH_ABOVE_FLOOR_DB;
        if (speech) {
            speechFrames++;
            silentFrames = 0;
        } else if (speechFrames >= minSpeechFrames) {
            ended = ++silentFrames >= trailingFrames;
        } else {
            speechFrames = 0; // a click, not speech
        }
    }

    /** True once at least 100 ms of speech was heard. */
    public boolean heardSpeech() {
        return speechFrames >= minSpeechFrames;
    }

    /** Seconds of audio taken so far (whole frames). */
    public double seconds() {
        return frames * FRAME_MS / 1000.0;
    }
}
