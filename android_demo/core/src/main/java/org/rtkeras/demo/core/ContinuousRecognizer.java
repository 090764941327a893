package org.rtkeras.demo.core;

import java.util.Arrays;

/**
 * Continuous recognition of a microphone stream, the app's listening session without Android:
 * an UtteranceSegmenter cuts the blocks at the VAD's endpoints; a streaming model (its
 * StreamingTranscriber) is fed every block as it comes, reports the partial transcript after
 * each chunk it runs, and finishes (its state reset) at each endpoint, so every utterance
 * starts from a fresh state; without a streaming model each finished utterance is handed on
 * for whole-utterance transcription. A failing chunk stops live transcription for the rest of
 * the session (reported once) but not the segmentation. Feed it from one thread.
 */
public final class ContinuousRecognizer {
    /** Called on the thread that feeds the recognizer. */
    public interface Listener {
        /** The streaming model's transcript of the utterance so far (after each chunk it ran). */
        void partial(String text);

        /**
         * A finished utterance: {@code text} is the streaming model's final transcript, or null
         * without a streaming model (transcribe {@code utterance.samples} as a whole).
         */
        void finished(UtteranceSegmenter.Utterance utterance, String text);

        /** Live transcription failed; called once. */
        void failed(RuntimeException error);
    }

    private final UtteranceSegmenter segmenter;
    private final StreamingTranscriber live;
    private final Listener listener;
    private boolean failed;

    /** {@code live}: the streaming model's transcriber, or null for a whole-utterance model. */
    public ContinuousRecognizer(UtteranceSegmenter segmenter, StreamingTranscriber live, Listener listener) {
        this.segmenter = segmenter;
        this.live = live;
        this.listener = listener;
    }

    /** The next {@code count} samples of {@code block} (16-bit PCM at the model's rate). */
    public void accept(short[] block, int count) {
        if (live != null && !failed) {
            float[] samples = Pcm.toFloat(Arrays.copyOf(block, count));
            int before = live.chunks();
            try {
                String text = live.accept(samples, 0, samples.length);
                if (live.chunks() != before) {
                    listener.partial(text);
                }
            } catch (RuntimeException e) {
                failed = true;
                listener.failed(e);
            }
        }
        for (UtteranceSegmenter.Utterance utterance : segmenter.accept(block, count)) {
            finish(utterance);
        }
    }

    /** The user stopped: what was said since the last endpoint is the last utterance (if speech was heard). */
    public void stop() {
        UtteranceSegmenter.Utterance rest = segmenter.flush();
        if (rest != null) {
            finish(rest);
        } else if (live != null) {
            live.reset();
        }
    }

    /** True while speech has been heard and the utterance's endpoint not yet reached. */
    public boolean inUtterance() {
        return segmenter.inUtterance();
    }

    private void finish(UtteranceSegmenter.Utterance utterance) {
        if (live == null) {
            listener.finished(utterance, null);
            return;
        }
        String text;
        if (failed) {
            live.reset();
            text = "(live transcription failed)";
        } else {
            try {
                text = live.finish();
            } catch (RuntimeException e) {
                failed = true;
                listener.failed(e);
                text = "(live transcription failed)";
            }
        }
        listener.finished(utterance, text);
    }
}
