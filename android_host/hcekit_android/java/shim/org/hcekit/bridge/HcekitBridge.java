package org.hcekit.bridge;

import java.util.ArrayDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Carries APDUs between Android's HCE service and the Python card.
 *
 * <p>Static because Android creates (and recreates) the service instance while
 * the Python side attaches once per process; this class is the meeting point.
 *
 * <p>Contract:
 * <ul>
 *   <li>Worker dispatch (the default): {@code processCommandApdu}, on the app's
 *       main thread, gives the command a serial number, queues it and returns
 *       null at once. The card's own thread takes it: Python's, pulling with
 *       {@link #awaitEvent} after {@link #startPulling} (plain calls, no
 *       callback into Python), or, for an {@link ApduListener} set with
 *       {@link #setListener}, the bridge's thread "hcekit-dispatch". The answer
 *       comes through {@link #respond} and goes out with
 *       {@code sendResponseApdu}. The main thread never runs or waits for Python.</li>
 *   <li>Deadline: if no answer arrives within {@link #getDeadlineMillis()} ms
 *       (default {@value #DEFAULT_DEADLINE_MS}) a timer thread sends 6F00 with
 *       {@code sendResponseApdu} and logs it. Android delivers it when the
 *       main thread is free, which with worker dispatch it always is. A later
 *       answer to that command, or one after the reader left, is dropped.</li>
 *   <li>Inline dispatch (opt-in, {@link #setInlineDispatch}; unsafe): the
 *       listener runs on the main thread inside {@code processCommandApdu}. A
 *       slow listener then blocks the main thread, and since
 *       {@code sendResponseApdu} only queues for that thread, the deadline's
 *       6F00 cannot leave before the listener returns. For listeners that
 *       answer in microseconds only.</li>
 *   <li>A listener that throws or returns false (pyjnius returns false when the
 *       Python callback raised) gets 6F00 answered at once.</li>
 *   <li>Cold start: a command that arrives before the card is attached is
 *       held (only one can be outstanding: the reader waits for each answer).
 *       If the service's meta-data names a Python service
 *       ({@value #META_PYTHON_SERVICE}, python-for-android's generated
 *       {@code Service<Name>} class in the same process), the bridge starts it
 *       through the class's static {@code start(Context, String)} (an explicit
 *       intent with the extras PythonService needs), once per boot. If the card
 *       attaches before the cold-start deadline ({@value #META_COLD_START_MS},
 *       default {@value #DEFAULT_COLD_START_MS} ms; without a Python service
 *       the ordinary deadline) the command is delivered to it; otherwise 6F00
 *       answers and the command is forgotten; the next tap asks again.</li>
 *   <li>Commands and deactivations reach the listener in the order Android
 *       delivered them; a command whose deadline passed while it waited behind
 *       a slow one is not delivered at all.</li>
 * </ul>
 */
public final class HcekitBridge {
    public static final String TAG = "hcekit";
    public static final int DEFAULT_DEADLINE_MS = 1000;
    /** Meta-data of the HCE service: the Python service class (".ServiceName" or fully qualified). */
    public static final String META_PYTHON_SERVICE = "org.hcekit.python_service";
    /** Meta-data of the HCE service: how long a command waits for Python to come up, in ms. */
    public static final String META_COLD_START_MS = "org.hcekit.cold_start_ms";
    public static final int DEFAULT_COLD_START_MS = 3000;
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
    private static final ExecutorService DISPATCH = newDispatcher();

    /** Event kinds in {@link #awaitEvent}'s byte[]: kind, 4-byte big-endian value, data. */
    public static final byte EVENT_COMMAND = 1;
    public static final byte EVENT_DEACTIVATED = 2;
    /** Polling frames (Android 15 observe mode): {@code [EVENT_POLLING, count (4 bytes), frames...]}. */
    public static final byte EVENT_POLLING = 3;

    private static ApduListener listener;
    private static boolean pulling;
    private static boolean pullerBusy;
    private static final ArrayDeque<Object> EVENTS = new ArrayDeque<>();
    private static boolean inline;
    private static BridgeHost host;
    private static String pythonService;
    private static int coldStartMs = DEFAULT_COLD_START_MS;
    private static boolean startRequested;
    private static long startRequests;
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

    /** The one thread that calls the listener in worker dispatch, in arrival order. */
    private static ExecutorService newDispatcher() {
        return new ThreadPoolExecutor(1, 1, 0L, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                runnable -> {
                    Thread thread = new Thread(runnable, "hcekit-dispatch");
                    thread.setDaemon(true);
                    return thread;
                });
    }

    // -- the Python side ---------------------------------------------------------

    /** Attach a listener (Java, or Python for inline dispatch); a held command goes to it now. */
    public static void setListener(ApduListener newListener) {
        final Pending held;
        synchronized (LOCK) {
            listener = newListener;
            pulling = false;
            startRequested = false;
            held = (pending != null && !pending.done && !pending.delivered) ? pending : null;
            if (held != null) {
                held.delivered = true;
            }
        }
        if (held != null && newListener != null) {
            log(BridgeHost.INFO, "delivering command #" + held.serial + " held since cold start");
            DISPATCH.execute(() -> dispatchAndSend(held, newListener));
        }
    }

    /**
     * Attach a puller: from now on the card's own thread takes events with
     * {@link #awaitEvent}. A command held since a cold start is queued for it now.
     */
    public static void startPulling() {
        synchronized (LOCK) {
            listener = null;
            pulling = true;
            startRequested = false;
            if (pending != null && !pending.done && !pending.delivered) {
                pending.delivered = true;
                log(BridgeHost.INFO, "delivering command #" + pending.serial + " held since cold start");
                EVENTS.add(pending);
            }
            LOCK.notifyAll();
        }
    }

    /** Detach the puller; a thread waiting in {@link #awaitEvent} returns null at once. */
    public static void stopPulling() {
        synchronized (LOCK) {
            pulling = false;
            EVENTS.clear();
            LOCK.notifyAll();
        }
    }

    /**
     * The next event for the puller, or null after *timeoutMillis* or once pulling
     * stopped: {@code [EVENT_COMMAND, serial (4 bytes), command...]} or
     * {@code [EVENT_DEACTIVATED, reason (4 bytes)]}. Commands whose deadline
     * passed while queued are skipped. Calling it again means the previous
     * event is handled.
     */
    public static byte[] awaitEvent(long timeoutMillis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        synchronized (LOCK) {
            while (true) {
                Object event = EVENTS.poll();
                if (event instanceof Pending) {
                    Pending command = (Pending) event;
                    if (command.done) {
                        log(BridgeHost.WARN, "command #" + command.serial + " not delivered: already answered");
                        continue;
                    }
                    pullerBusy = true;
                    return encode(EVENT_COMMAND, command.serial, command.command);
                }
                if (event instanceof PollingBatch) {
                    pullerBusy = true;
                    PollingBatch batch = (PollingBatch) event;
                    return encode(EVENT_POLLING, batch.count, batch.frames);
                }
                if (event instanceof Integer) {
                    pullerBusy = true;
                    return encode(EVENT_DEACTIVATED, (Integer) event, new byte[0]);
                }
                pullerBusy = false;
                LOCK.notifyAll();
                long left = end - System.nanoTime();
                if (!pulling || left <= 0) {
                    return null;
                }
                TimeUnit.NANOSECONDS.timedWait(LOCK, left);
            }
        }
    }

    private static byte[] encode(byte kind, int value, byte[] data) {
        byte[] out = new byte[5 + data.length];
        out[0] = kind;
        out[1] = (byte) (value >>> 24);
        out[2] = (byte) (value >>> 16);
        out[3] = (byte) (value >>> 8);
        out[4] = (byte) value;
        System.arraycopy(data, 0, out, 5, data.length);
        return out;
    }

    /** The puller could not answer command *serial*: 6F00 now (as a listener returning false). */
    public static void fail(int serial) {
        final Pending target;
        synchronized (LOCK) {
            target = pending;
            if (target == null || target.serial != serial || target.done) {
                return;
            }
            target.done = true;
            cancelTimer(target);
            failures++;
        }
        log(BridgeHost.ERROR, "the card failed on command #" + serial + "; answering 6F00");
        target.sink.sendResponse(SW_UNKNOWN.clone());
    }

    /** Detach *oldListener* (only if it is still the registered one). */
    public static void clearListener(ApduListener oldListener) {
        synchronized (LOCK) {
            if (listener == oldListener) {
                listener = null;
            }
        }
    }

    /** Whether a listener or a puller is attached. */
    public static boolean hasListener() {
        synchronized (LOCK) {
            return listener != null || pulling;
        }
    }

    /** true: call the listener on the main thread (unsafe, see the class comment). Default false. */
    public static void setInlineDispatch(boolean onMainThread) {
        synchronized (LOCK) {
            inline = onMainThread;
        }
    }

    public static boolean isInlineDispatch() {
        synchronized (LOCK) {
            return inline;
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
                log(BridgeHost.WARN, "answer to command #" + serial + " dropped: the command was already"
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
            log(BridgeHost.ERROR, "answer to command #" + serial + " has no status word; answering 6F00");
        }
        if (answer != null) {
            target.sink.sendResponse(answer);
        }
        return valid;
    }

    /**
     * Set by the HCE service's onCreate, before any command: where the bridge
     * logs and starts Python, the Python service a cold start starts (null: none)
     * and the cold-start deadline (values below 1 ms mean the default).
     */
    public static void configure(BridgeHost newHost, String newPythonService, int coldStartMillis) {
        synchronized (LOCK) {
            host = newHost;
            pythonService = newPythonService;
            coldStartMs = coldStartMillis >= 1 ? coldStartMillis : DEFAULT_COLD_START_MS;
        }
    }

    /** The Python service class a cold start starts, or null (none configured). */
    public static String getPythonService() {
        synchronized (LOCK) {
            return pythonService;
        }
    }

    public static void setColdStartMillis(int millis) {
        if (millis < 1) {
            throw new IllegalArgumentException("cold-start deadline must be at least 1 ms, got " + millis);
        }
        synchronized (LOCK) {
            coldStartMs = millis;
        }
    }

    public static int getColdStartMillis() {
        synchronized (LOCK) {
            return coldStartMs;
        }
    }

    /** How many times a cold start asked for the Python service. */
    public static long getStartRequests() {
        synchronized (LOCK) {
            return startRequests;
        }
    }

    /** Start the Python service *className* through the platform; false if that failed. */
    public static boolean startPythonService(String className) {
        BridgeHost current;
        synchronized (LOCK) {
            current = host;
        }
        if (current == null) {
            log(BridgeHost.ERROR, "cannot start the Python service " + className
                    + ": no HCE service has configured the bridge", null);
            return false;
        }
        return current.startPythonService(className);
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

    /** Wait until the listener or puller has handled everything queued so far; false on timeout. */
    public static boolean awaitDispatched(long timeoutMillis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        CountDownLatch done = new CountDownLatch(1);
        DISPATCH.execute(done::countDown);
        if (!done.await(timeoutMillis, TimeUnit.MILLISECONDS)) {
            return false;
        }
        synchronized (LOCK) {
            while (pulling && (pullerBusy || !EVENTS.isEmpty())) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(LOCK, left);
            }
        }
        return true;
    }

    // -- the service side (main thread) ---------------------------------------------------

    /** {@code processCommandApdu}: null for "later", or (inline dispatch) the answer now. */
    public static byte[] command(ResponseSink sink, byte[] apdu) {
        final Pending next;
        final ApduListener current;
        final boolean onMainThread;
        final String toStart;
        synchronized (LOCK) {
            if (pending != null && !pending.done) {
                pending.done = true;
                cancelTimer(pending);
                log(BridgeHost.WARN, "command #" + pending.serial + " superseded before it was answered");
            }
            next = new Pending(++lastSerial, apdu, sink);
            pending = next;
            current = listener;
            onMainThread = inline;
            next.delivered = current != null || pulling;
            boolean cold = !next.delivered && pythonService != null;
            toStart = cold && !startRequested ? pythonService : null;
            if (toStart != null) {
                startRequested = true;
                startRequests++;
            }
            next.timer = TIMER.schedule(() -> expire(next), cold ? coldStartMs : deadlineMs,
                    TimeUnit.MILLISECONDS);
            if (pulling) {
                EVENTS.add(next);
                LOCK.notifyAll();
                return null;
            }
        }
        if (current == null) {
            log(BridgeHost.INFO, "command #" + next.serial + " held: no listener yet (cold start)");
            if (toStart != null && !startPythonService(toStart)) {
                synchronized (LOCK) {
                    startRequested = false;
                }
            }
            return null;
        }
        if (onMainThread) {
            return dispatch(next, current);
        }
        DISPATCH.execute(() -> dispatchAndSend(next, current));
        return null;
    }

    private static final class PollingBatch {
        final int count;
        final byte[] frames;

        PollingBatch(int count, byte[] frames) {
            this.count = count;
            this.frames = frames;
        }
    }

    /**
     * {@code processPollingFrames} (Android 15+, on the main thread): queue *count*
     * frames, each encoded as type (1 byte), triggered-auto-transact (1), gain (4),
     * timestamp (8), data length (2), data, for the card's thread; never blocks.
     * Only a puller receives them: with a listener they are dropped with a log line.
     */
    public static void pollingFrames(int count, byte[] frames) {
        synchronized (LOCK) {
            if (pulling) {
                EVENTS.add(new PollingBatch(count, frames));
                LOCK.notifyAll();
                return;
            }
        }
        log(BridgeHost.WARN, count + " polling frame(s) dropped: no card pulling events "
                + "(inline dispatch and listeners do not receive polling frames)");
    }

    /** {@code onDeactivated}: drop the outstanding command, tell the card (in order). */
    public static void deactivated(ResponseSink sink, int reason) {
        final ApduListener current;
        final boolean onMainThread;
        synchronized (LOCK) {
            if (pending != null && !pending.done) {
                pending.done = true;
                cancelTimer(pending);
                log(BridgeHost.INFO, "command #" + pending.serial + " dropped: deactivated (" + reason + ")");
            }
            pending = null;
            current = listener;
            onMainThread = inline;
            if (pulling) {
                EVENTS.add(reason);
                LOCK.notifyAll();
                return;
            }
        }
        if (current == null) {
            return;
        }
        if (onMainThread) {
            notifyDeactivated(current, reason);
        } else {
            DISPATCH.execute(() -> notifyDeactivated(current, reason));
        }
    }

    private static void notifyDeactivated(ApduListener to, int reason) {
        try {
            to.onDeactivated(reason);
        } catch (Throwable error) {
            log(BridgeHost.ERROR, "listener failed in onDeactivated", error);
        }
    }

    private static void dispatchAndSend(Pending target, ApduListener to) {
        synchronized (LOCK) {
            if (target.done) {
                log(BridgeHost.WARN, "command #" + target.serial + " not delivered: already answered");
                return;
            }
        }
        byte[] answer = dispatch(target, to);
        if (answer != null) {
            target.sink.sendResponse(answer);
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
            log(BridgeHost.ERROR, "listener threw on command #" + target.serial, error);
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
        log(BridgeHost.ERROR, "listener failed on command #" + target.serial + "; answering 6F00");
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
            limit = cold && pythonService != null ? coldStartMs : deadlineMs;
            if (cold) {
                startRequested = false;  // the next tap asks again
            }
        }
        log(BridgeHost.WARN, "no answer to command #" + target.serial + " within " + limit + " ms"
                + (cold ? " (no listener registered: cold start)" : "") + "; answering 6F00");
        target.sink.sendResponse(SW_UNKNOWN.clone());
    }

    private static void log(int level, String message) {
        log(level, message, null);
    }

    /** To the platform's log (before any service configured the bridge: standard error). */
    private static void log(int level, String message, Throwable error) {
        BridgeHost current;
        synchronized (LOCK) {
            current = host;
        }
        if (current != null) {
            current.log(level, message, error);
        } else {
            System.err.println(TAG + ": " + message + (error == null ? "" : " (" + error + ")"));
        }
    }

    private static void cancelTimer(Pending target) {
        if (target.timer != null) {
            target.timer.cancel(false);
        }
    }
}
