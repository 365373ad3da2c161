package org.hcekit.android;

import android.util.Log;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Carries APDUs between Android's HCE service and the Python card.
 *
 * <p>Static because Android creates (and recreates) the service instance while
 * the Python side attaches once per process; this class is the meeting point.
 *
 * <p>Contract:
 * <ul>
 *   <li>Every command gets a serial number and is handed to the registered
 *       {@link ApduListener}; {@code processCommandApdu} returns the answer at
 *       once if Python answered inside the callback, else {@code null} and the
 *       answer goes out later through {@code sendResponseApdu}.</li>
 *   <li>Deadline: if no answer arrives within {@link #getDeadlineMillis()} ms
 *       (default {@value #DEFAULT_DEADLINE_MS}, below the 1500 ms readers and
 *       WeChat allow) the bridge answers 6F00 and logs it. An answer that
 *       arrives after that, or after the reader left, is dropped, so it can
 *       never be taken for the answer to a later command.</li>
 *   <li>A listener that throws or returns false (pyjnius returns false when the
 *       Python callback raised) gets 6F00 answered at once.</li>
 *   <li>Cold start: a command that arrives before a listener is registered is
 *       held (only one can be outstanding: the reader waits for each answer).
 *       If a listener registers before the deadline the command is delivered to
 *       it; otherwise the deadline answers 6F00. The behaviour is the same on
 *       every tap, so a reader that retries gets a real answer once Python is up.</li>
 * </ul>
 */
public final class HcekitBridge {
    public static final String TAG = "hcekit";
    public static final int DEFAULT_DEADLINE_MS = 1000;
    private static final byte[] SW_UNKNOWN = {(byte) 0x6F, (byte) 0x00};

    /** Where an answer goes: the service instance that received the command. */
    public interface ResponseSink {
        void sendResponse(byte[] response);
    }

    private static final class Pending {
        final int serial;
        final byte[] command;
        final ResponseSink sink;
        /** The thread inside {@code onCommand} for this command, or null. */
        Thread dispatching;
        byte[] inlineAnswer;
        boolean delivered;
        boolean done;
        ScheduledFuture<?> timer;

        Pending(int serial, byte[] command, ResponseSink sink) {
            this.serial = serial;
            this.command = command;
            this.sink = sink;
        }
    }

    private static final Object LOCK = new Object();
    private static final ScheduledThreadPoolExecutor TIMER = newTimer();

    private static ApduListener listener;
    private static Pending pending;
    private static int lastSerial;
    private static int deadlineMs = DEFAULT_DEADLINE_MS;
    private static long timeouts;
    private static long failures;
    private static long staleAnswers;

    private HcekitBridge() {}

    /** One daemon thread; a cancelled deadline leaves the queue at once (no command kept alive). */
    private static ScheduledThreadPoolExecutor newTimer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "hcekit-deadline");
            thread.setDaemon(true);
            return thread;
        });
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    // -- the Python side ---------------------------------------------------------

    /** Attach the card; a command held since a cold start is delivered to it now. */
    public static void setListener(ApduListener newListener) {
        final Pending held;
        synchronized (LOCK) {
            listener = newListener;
            held = (pending != null && !pending.done && !pending.delivered) ? pending : null;
            if (held != null) {
                held.delivered = true;
            }
        }
        if (held != null && newListener != null) {
            Log.i(TAG, "delivering command #" + held.serial + " held since cold start");
            Thread thread = new Thread(() -> {
                byte[] answer = dispatch(held, newListener);
                if (answer != null) {
                    held.sink.sendResponse(answer);
                }
            }, "hcekit-cold-start");
            thread.setDaemon(true);
            thread.start();
        }
    }

    /** Detach *oldListener* (only if it is still the registered one). */
    public static void clearListener(ApduListener oldListener) {
        synchronized (LOCK) {
            if (listener == oldListener) {
                listener = null;
            }
        }
    }

    public static boolean hasListener() {
        synchronized (LOCK) {
            return listener != null;
        }
    }

    /**
     * The answer to command *serial*. Any thread. Returns false if it was dropped
     * (late, superseded, reader gone) or replaced by 6F00 (fewer than 2 bytes).
     */
    public static boolean respond(int serial, byte[] response) {
        boolean valid = response != null && response.length >= 2;
        byte[] answer = valid ? response : SW_UNKNOWN.clone();
        final Pending target;
        synchronized (LOCK) {
            target = pending;
            if (target == null || target.serial != serial || target.done) {
                staleAnswers++;
                Log.w(TAG, "answer to command #" + serial + " dropped: the command was already"
                        + " answered (deadline) or the reader left");
                return false;
            }
            target.done = true;
            cancelTimer(target);
            if (target.dispatching == Thread.currentThread()) {
                target.inlineAnswer = answer;
                answer = null;
            }
        }
        if (!valid) {
            Log.e(TAG, "answer to command #" + serial + " has no status word; answering 6F00");
        }
        if (answer != null) {
            target.sink.sendResponse(answer);
        }
        return valid;
    }

    public static void setDeadlineMillis(int millis) {
        if (millis < 1) {
            throw new IllegalArgumentException("deadline must be at least 1 ms, got " + millis);
        }
        synchronized (LOCK) {
            deadlineMs = millis;
        }
    }

    public static int getDeadlineMillis() {
        synchronized (LOCK) {
            return deadlineMs;
        }
    }

    /** Commands answered 6F00 by the deadline. */
    public static long getTimeouts() {
        synchronized (LOCK) {
            return timeouts;
        }
    }

    /** Commands answered 6F00 because the listener threw or returned false. */
    public static long getFailures() {
        synchronized (LOCK) {
            return failures;
        }
    }

    /** Answers dropped because they came too late. */
    public static long getStaleAnswers() {
        synchronized (LOCK) {
            return staleAnswers;
        }
    }

    // -- the service side ------------------------------------------------------------

    /** {@code processCommandApdu}: the answer now, or null for "later". Main thread. */
    static byte[] command(ResponseSink sink, byte[] apdu) {
        final Pending next;
        final ApduListener current;
        synchronized (LOCK) {
            if (pending != null && !pending.done) {
                pending.done = true;
                cancelTimer(pending);
                Log.w(TAG, "command #" + pending.serial + " superseded before it was answered");
            }
            next = new Pending(++lastSerial, apdu, sink);
            pending = next;
            current = listener;
            next.delivered = current != null;
            next.timer = TIMER.schedule(() -> expire(next), deadlineMs, TimeUnit.MILLISECONDS);
        }
        if (current == null) {
            Log.i(TAG, "command #" + next.serial + " held: no listener yet (cold start)");
            return null;
        }
        return dispatch(next, current);
    }

    /** {@code onDeactivated}: drop the outstanding command, tell the card. */
    static void deactivated(ResponseSink sink, int reason) {
        final ApduListener current;
        synchronized (LOCK) {
            if (pending != null && !pending.done) {
                pending.done = true;
                cancelTimer(pending);
                Log.i(TAG, "command #" + pending.serial + " dropped: deactivated (" + reason + ")");
            }
            pending = null;
            current = listener;
        }
        if (current == null) {
            return;
        }
        try {
            current.onDeactivated(reason);
        } catch (Throwable error) {
            Log.e(TAG, "listener failed in onDeactivated", error);
        }
    }

    private static byte[] dispatch(Pending target, ApduListener to) {
        synchronized (LOCK) {
            target.dispatching = Thread.currentThread();
        }
        boolean accepted;
        try {
            accepted = to.onCommand(target.serial, target.command);
        } catch (Throwable error) {
            Log.e(TAG, "listener threw on command #" + target.serial, error);
            accepted = false;
        }
        synchronized (LOCK) {
            target.dispatching = null;
            if (target.inlineAnswer != null) {
                byte[] answer = target.inlineAnswer;
                target.inlineAnswer = null;
                return answer;
            }
            if (accepted || target.done) {
                return null;
            }
            target.done = true;
            cancelTimer(target);
            failures++;
        }
        Log.e(TAG, "listener failed on command #" + target.serial + "; answering 6F00");
        return SW_UNKNOWN.clone();
    }

    private static void expire(Pending target) {
        boolean cold;
        int limit;
        synchronized (LOCK) {
            if (target.done) {
                return;
            }
            target.done = true;
            timeouts++;
            cold = !target.delivered;
            limit = deadlineMs;
        }
        Log.w(TAG, "no answer to command #" + target.serial + " within " + limit + " ms"
                + (cold ? " (no listener registered: cold start)" : "") + "; answering 6F00");
        target.sink.sendResponse(SW_UNKNOWN.clone());
    }

    private static void cancelTimer(Pending target) {
        if (target.timer != null) {
            target.timer.cancel(false);
        }
    }
}
