package org.rtkeras.demo;

import android.media.AudioFormat;
import android.media.AudioRecord;
import android.media.MediaRecorder;

import org.rtkeras.demo.core.Pcm;
import org.rtkeras.demo.core.RingBuffer;

/** Microphone capture at 16 kHz mono PCM16 into a ring buffer (needs RECORD_AUDIO). */
final class AudioRecorder {
    static final int MAX_SECONDS = 10;

    private final RingBuffer ring = new RingBuffer(MAX_SECONDS * Pcm.MODEL_SAMPLE_RATE);
    private volatile boolean recording;
    private Thread thread;

    void start() {
        final int minimum = AudioRecord.getMinBufferSize(Pcm.MODEL_SAMPLE_RATE, AudioFormat.CHANNEL_IN_MONO,
                AudioFormat.ENCODING_PCM_16BIT);
        final AudioRecord record = new AudioRecord(MediaRecorder.AudioSource.VOICE_RECOGNITION,
                Pcm.MODEL_SAMPLE_RATE, AudioFormat.CHANNEL_IN_MONO, AudioFormat.ENCODING_PCM_16BIT,
                Math.max(minimum, Pcm.MODEL_SAMPLE_RATE / 5 * 2));
        if (record.getState() != AudioRecord.STATE_INITIALIZED) {
            record.release();
            throw new IllegalStateException("the microphone could not be opened at 16 kHz mono");
        }
        ring.clear();
        recording = true;
        record.startRecording();
        thread = new Thread(new Runnable() {
            @Override
            public void run() {
                short[] chunk = new short[Pcm.MODEL_SAMPLE_RATE / 10];
                while (recording) {
                    int n = record.read(chunk, 0, chunk.length);
                    if (n > 0) {
                        ring.write(chunk, n);
                    }
                }
                record.stop();
                record.release();
            }
        }, "recorder");
        thread.start();
    }

    /** Stops and returns the recorded 16 kHz samples (the last MAX_SECONDS at most). */
    short[] stop() throws InterruptedException {
        recording = false;
        if (thread != null) {
            thread.join();
        }
        return ring.snapshot();
    }
}
