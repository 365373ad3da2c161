package android.os;

import java.util.PriorityQueue;

/**
 * Desktop stand-in: one message queue per thread, run by {@link #loop()}.
 *
 * <p>As on Android, a thread calls {@link #prepare()} then {@link #loop()};
 * {@link Handler}s bound to the looper enqueue messages, which run one at a
 * time, in order of their due time, on that thread only. While a message
 * runs, nothing else queued on the looper can run: that is the property the
 * HCE model depends on (AOSP {@code android.os.Looper}, {@code MessageQueue}).
 */
public final class Looper {
    private static final ThreadLocal<Looper> CURRENT = new ThreadLocal<>();
    private static volatile Looper main;

    private final Thread thread;
    private final PriorityQueue<Message> queue = new PriorityQueue<>((a, b) ->
            a.when != b.when ? Long.compare(a.when, b.when) : Long.compare(a.sequence, b.sequence));
    private long sequence;
    private boolean quitting;

    private Looper() {
        thread = Thread.currentThread();
    }

    /** Give the current thread a looper (once per thread, as on Android). */
    public static void prepare() {
        if (CURRENT.get() != null) {
            throw new RuntimeException("Only one Looper may be created per thread");
        }
        CURRENT.set(new Looper());
    }

    /** Make the current thread's looper the process's main looper. */
    public static void prepareMainLooper() {
        prepare();
        main = CURRENT.get();
    }

    public static Looper getMainLooper() {
        return main;
    }

    public static Looper myLooper() {
        return CURRENT.get();
    }

    public Thread getThread() {
        return thread;
    }

    public boolean isCurrentThread() {
        return Thread.currentThread() == thread;
    }

    /** Run the current thread's queue until {@link #quit()}. */
    public static void loop() {
        Looper me = CURRENT.get();
        if (me == null) {
            throw new RuntimeException("No Looper; Looper.prepare() wasn't called on this thread.");
        }
        while (true) {
            Message next = me.next();
            if (next == null) {
                return;
            }
            next.target.dispatchMessage(next);
        }
    }

    /** Stop looping; messages still queued are discarded. */
    public void quit() {
        synchronized (queue) {
            quitting = true;
            queue.clear();
            queue.notifyAll();
        }
    }

    private Message next() {
        synchronized (queue) {
            while (true) {
                if (quitting) {
                    return null;
                }
                Message head = queue.peek();
                long now = SystemClock.uptimeMillis();
                if (head != null && head.when <= now) {
                    return queue.poll();
                }
                try {
                    if (head == null) {
                        queue.wait();
                    } else {
                        queue.wait(Math.max(1, head.when - now));
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return null;
                }
            }
        }
    }

    boolean enqueue(Message message, long when) {
        synchronized (queue) {
            if (quitting) {
                return false;
            }
            message.when = when;
            message.sequence = sequence++;
            queue.add(message);
            queue.notifyAll();
            return true;
        }
    }

    void remove(Handler handler, Runnable callback) {
        synchronized (queue) {
            queue.removeIf(m -> m.target == handler && m.callback == callback);
        }
    }
}
