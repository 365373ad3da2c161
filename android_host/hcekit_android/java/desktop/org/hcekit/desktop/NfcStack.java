package org.hcekit.desktop;

import android.nfc.cardemulation.HostApduService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Plays Android's NFC stack for one HCE service on a desktop JVM.
 *
 * <p>As on Android, {@code processCommandApdu} and {@code onDeactivated} run on
 * one "main" thread; a non-null return value is the answer, null means the
 * service answers later with {@code sendResponseApdu} from any thread. One
 * command is outstanding at a time (the reader waits for each answer); an
 * answer that arrives with none outstanding is counted, not delivered.
 */
public final class NfcStack implements HostApduService.DesktopStack {
    private final HostApduService service;
    private final ExecutorService main;
    private final Object lock = new Object();
    private LinkedBlockingQueue<byte[]> outstanding;
    private LinkedBlockingQueue<byte[]> waiting;
    private final AtomicInteger unsolicited = new AtomicInteger();

    public NfcStack(HostApduService service) {
        this.service = service;
        this.main = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "main");
            thread.setDaemon(true);
            return thread;
        });
        service.attachDesktopStack(this);
    }

    @Override
    public void onResponseApdu(byte[] response) {
        LinkedBlockingQueue<byte[]> target;
        synchronized (lock) {
            target = outstanding;
            outstanding = null;
        }
        if (target == null) {
            unsolicited.incrementAndGet();
        } else {
            target.add(response.clone());
        }
    }

    /** Send *command*; the answer, or null if none came within *timeoutMillis*. */
    public byte[] transceive(byte[] command, long timeoutMillis) throws InterruptedException {
        submit(command);
        return awaitAnswer(timeoutMillis);
    }

    /** Hand *command* to the service on the main thread without waiting (see {@link #awaitAnswer}). */
    public void submit(byte[] command) {
        LinkedBlockingQueue<byte[]> answer = new LinkedBlockingQueue<>();
        synchronized (lock) {
            outstanding = answer;
            waiting = answer;
        }
        final byte[] copy = command.clone();
        main.execute(() -> {
            byte[] direct = service.processCommandApdu(copy, null);
            if (direct != null) {
                onResponseApdu(direct);
            }
        });
    }

    /** The answer to the last submitted command, or null after *timeoutMillis*. */
    public byte[] awaitAnswer(long timeoutMillis) throws InterruptedException {
        LinkedBlockingQueue<byte[]> answer;
        synchronized (lock) {
            answer = waiting;
        }
        if (answer == null) {
            throw new IllegalStateException("no command submitted");
        }
        byte[] result = answer.poll(timeoutMillis, TimeUnit.MILLISECONDS);
        if (result == null) {
            synchronized (lock) {
                if (outstanding == answer) {
                    outstanding = null;
                }
            }
        }
        return result;
    }

    /** The reader left (0 link loss) or selected another service (1), on the main thread. */
    public void deactivate(int reason) throws Exception {
        synchronized (lock) {
            outstanding = null;
        }
        Future<?> done = main.submit(() -> service.onDeactivated(reason));
        done.get(10, TimeUnit.SECONDS);
    }

    /** Answers that arrived with no command outstanding (late or duplicate). */
    public int unsolicitedResponses() {
        return unsolicited.get();
    }

    /** Wait until the main thread has run everything posted so far. */
    public void drain() throws Exception {
        main.submit(() -> { }).get(10, TimeUnit.SECONDS);
    }

    /**
     * Benchmark: *count* round trips of *command*, each timed from handing it to
     * the main thread to the answer; nanoseconds, in order.
     */
    public long[] roundTrips(byte[] command, int count, long timeoutMillis) throws InterruptedException {
        long[] times = new long[count];
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            byte[] answer = transceive(command, timeoutMillis);
            times[i] = System.nanoTime() - start;
            if (answer == null) {
                throw new IllegalStateException("no answer within " + timeoutMillis + " ms");
            }
        }
        return times;
    }

    public void shutdown() {
        main.shutdownNow();
    }
}
