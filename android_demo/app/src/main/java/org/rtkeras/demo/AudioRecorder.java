package org.rtkeras.demo;

import android.media.AudioFormat;
import android.media.AudioRecord;
import android.media.MediaRecorder;

import org.rtkeras.demo.core.RingBuffer;

/** Microphone capture of mono PCM16 at the model's sample rate into a ring buffer (needs RECORD_AUDIO). */
final class AudioRecorder {
    static final int MAX_SECONDS = 10;

    private volatile boolean recording;
    private RingBuffer ring;
    private Thread thread;
    private int sampleRate;

    /** Starts recording at {@code rate} Hz (the selected model's, from its metadata). */
    void start(final int rate) {
        final int minimum = AudioRecord.getMinBufferSize(rate, AudioFormat.CHANNEL_IN_MONO,
                AudioFormat.ENCODING_PCM_16BIT);
        final AudioRecord record = new AudioRecord(MediaRecorder.AudioSource.VOICE_RECOGNITION,
                rate, AudioFormat.CHANNEL_IN_MONO, AudioFormat.ENCODING_PCM_16BIT,
                Math.max(minimum, rate / 5 * 2));
        if (record.getState() != AudioRecord.STATE_INITIALIZED) {
            record.release();
            throw new IllegalStateException("the microphone could not be opened at " + rate + " Hz mono");
        }
        sampleRate = rate;
        final RingBuffer buffer = new RingBuffer(MAX_SECONDS * rate);
        ring = buffer;
        recording = true;
        record.startRecording();
        thread = new Thread(new Runnable() {
            @Override
            public void run() {
                short[] chunk = new short[rate / 10];
                while (recording) {
                    int n = record.read(chunk, 0, chunk.length);
                    if (n > 0) {
                        buffer.write(chunk, n);
                    }
                }
                record.stop();
                record.release();
            }
        }, "recorder");
        thread.start();
    }

    int sampleRate() {
        return sampleRate;
    }

    /** Stops and returns the recorded samples (the last MAX_SECONDS at most). */
    short[] stop() throws InterruptedException {
        recording = false;
        if (thread != null) {
            thread.join();
        }
        return ring.snapshot();
    }
}
