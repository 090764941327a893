package org.rtkeras.demo.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Continuous recognition: cuts a microphone stream into utterances at the VAD's endpoints, so
 * the next utterance starts without a tap. Each utterance runs from {@code preRollMs} before
 * its speech started (EnergyVad hears speech once {@link EnergyVad#MIN_SPEECH_MS} of it came in
 * a row) to the endpoint, its trailing silence included; silence between utterances is
 * dropped. An utterance longer than {@code maxSeconds} (noise the VAD takes for speech) is
 * closed there and marked cut. Every utterance gets a fresh EnergyVad, so its noise floor
 * starts from the pause before it. Feed blocks in order from one thread.
 */
public final class UtteranceSegmenter {
    /** A finished utterance: its samples and where they lie in the stream (sample indices). */
    public static final class Utterance {
        public final long startSample;
        public final long endSample;
        public final short[] samples;
        /** Closed at maxSeconds, not by an endpoint; or by {@link #flush} (the user stopped). */
        public final boolean cut;

        Utterance(long startSample, short[] samples, boolean cut) {
            this.startSample = startSample;
            this.endSample = startSample + samples.length;
            this.samples = samples;
            this.cut = cut;
        }
    }

    private final int sampleRate;
    private final int trailingSilenceMs;
    private final int frameSamples;
    private final int keepBeforeSpeech;
    private final int maxSamples;
    private EnergyVad vad;
    private short[] buffer = new short[0];
    private int buffered;
    /** Stream index of buffer[0]. */
    private long bufferStart;
    private long position;
    private int frameFill;

    public UtteranceSegmenter(int sampleRate, int trailingSilenceMs, int preRollMs, int maxSeconds) {
        if (sampleRate <= 0 || preRollMs < 0 || maxSeconds <= 0) {
            throw new IllegalArgumentException("sample rate and maximum length must be positive, pre-roll >= 0");
        }
        this.sampleRate = sampleRate;
        this.trailingSilenceMs = trailingSilenceMs;
        this.frameSamples = sampleRate * EnergyVad.FRAME_MS / 1000;
        this.keepBeforeSpeech = (int) ((long) sampleRate * (preRollMs + EnergyVad.MIN_SPEECH_MS) / 1000);
        this.maxSamples = maxSeconds * sampleRate;
        this.vad = new EnergyVad(sampleRate, trailingSilenceMs);
    }

    /** Takes the next {@code n} samples of {@code block}; returns the utterances they closed (usually none). */
    public List<Utterance> accept(short[] block, int n) {
        List<Utterance> closed = new ArrayList<Utterance>();
        int offset = 0;
        while (offset < n) {
            int take = Math.min(n - offset, frameSamples - frameFill); // whole VAD frames: exact endpoints
            append(block, offset, take);
            boolean ended = vad.accept(Arrays.copyOfRange(block, offset, offset + take), take);
            offset += take;
            position += take;
            frameFill = (frameFill + take) % frameSamples;
            if (ended) {
                closed.add(close(false));
            } else if (!vad.heardSpeech()) {
                dropBefore(position - keepBeforeSpeech);
            } else if (buffered >= maxSamples) {
                closed.add(close(true));
            }
        }
        return closed;
    }

    /** The utterance in progress (the user stopped), or null when no speech was heard in it. */
    public Utterance flush() {
        if (!vad.heardSpeech()) {
            dropBefore(position);
            vad = new EnergyVad(sampleRate, trailingSilenceMs);
            return null;
        }
        return close(true);
    }

    /** True while an utterance's speech has been heard and its endpoint not yet reached. */
    public boolean inUtterance() {
        return vad.heardSpeech();
    }

    /** Samples taken so far. */
    public long position() {
        return position;
    }

    private Utterance close(boolean cut) {
        Utterance utterance = new Utterance(bufferStart, Arrays.copyOf(buffer, buffered), cut);
        bufferStart = position;
        buffered = 0;
        vad = new EnergyVad(sampleRate, trailingSilenceMs);
        return utterance;
    }

    private void append(short[] block, int offset, int count) {
        if (buffered + count > buffer.length) {
            buffer = Arrays.copyOf(buffer, Math.max(buffered + count, 2 * buffer.length + frameSamples));
        }
        System.arraycopy(block, offset, buffer, buffered, count);
        buffered += count;
    }

    private void dropBefore(long streamIndex) {
        int drop = (int) Math.min(buffered, Math.max(0, streamIndex - bufferStart));
        if (drop > 0) {
            System.arraycopy(buffer, drop, buffer, 0, buffered - drop);
            buffered -= drop;
            bufferStart += drop;
        }
    }
}
