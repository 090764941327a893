package org.rtkeras.demo;

import android.Manifest;
import android.content.Context;
import android.content.pm.PackageManager;
import android.media.AudioFormat;
import android.media.AudioRecord;
import android.media.MediaRecorder;
import android.os.Process;

/**
 * Microphone capture of mono PCM16 at the model's sample rate, delivered in 100 ms blocks to a
 * listener on the recording thread (the app cuts them into utterances: UtteranceSegmenter).
 */
final class AudioRecorder {
    /** Called on the recording thread. */
    interface Listener {
        void onLevel(float rms);

        /** The {@code count} samples just read, at the rate recording started with. */
        void onAudio(short[] block, int count);

        void onError(String message);
    }

    private volatile boolean recording;
    private Thread thread;
    private int sampleRate;

    boolean isRecording() {
        return recording;
    }

    /**
     * Starts recording at {@code rate} Hz (the selected model's, from its metadata).
     *
     * @throws SecurityException if RECORD_AUDIO is not granted
     * @throws IllegalStateException if the microphone cannot be opened or started
     */
    void start(Context context, final int rate, final Listener listener) {
        if (recording) {
            throw new IllegalStateException("already recording");
        }
        if (context.checkSelfPermission(Manifest.permission.RECORD_AUDIO) != PackageManager.PERMISSION_GRANTED) {
            throw new SecurityException("the microphone permission (RECORD_AUDIO) is not granted");
        }
        final int minimum = AudioRecord.getMinBufferSize(rate, AudioFormat.CHANNEL_IN_MONO,
                AudioFormat.ENCODING_PCM_16BIT);
        if (minimum <= 0) {
            throw new IllegalStateException("the microphone does not support " + rate + " Hz mono 16-bit (code "
                    + minimum + ")");
        }
        final AudioRecord record = new AudioRecord(MediaRecorder.AudioSource.VOICE_RECOGNITION,
                rate, AudioFormat.CHANNEL_IN_MONO, AudioFormat.ENCODING_PCM_16BIT,
                Math.max(minimum, rate * 2)); // 1 s of 16-bit audio: room while a streaming chunk runs
        if (record.getState() != AudioRecord.STATE_INITIALIZED) {
            record.release();
            throw new IllegalStateException("the microphone could not be opened at " + rate + " Hz mono");
        }
        record.startRecording();
        if (record.getRecordingState() != AudioRecord.RECORDSTATE_RECORDING) {
            record.release();
            throw new IllegalStateException("the microphone did not start (is another app using it?)");
        }
        sampleRate = rate;
        recording = true;
        thread = new Thread(new Runnable() {
            @Override
            public void run() {
                Process.setThreadPriority(Process.THREAD_PRIORITY_URGENT_AUDIO);
                short[] chunk = new short[rate / 10];
                try {
                    while (recording) {
                        int n = record.read(chunk, 0, chunk.length);
                        if (n < 0) { // ERROR_INVALID_OPERATION, ERROR_BAD_VALUE, ERROR_DEAD_OBJECT, ERROR
                            recording = false;
                            listener.onError("the microphone stopped delivering audio (AudioRecord.read " + n + ")");
                            break;
                        }
                        listener.onAudio(chunk, n);
                        listener.onLevel(rms(chunk, n));
                    }
                } finally {
                    record.stop();
                    record.release();
                }
            }
        }, "recorder");
        thread.start();
    }

    static float rms(short[] chunk, int n) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += (double) chunk[i] * chunk[i];
        }
        return n == 0 ? 0f : (float) (Math.sqrt(sum / n) / 32768.0);
    }

    int sampleRate() {
        return sampleRate;
    }

    /** Stops; when it returns, the recording thread has delivered its last block. */
    void stop() throws InterruptedException {
        recording = false;
        if (thread != null) {
            thread.join();
            thread = null;
        }
    }
}
