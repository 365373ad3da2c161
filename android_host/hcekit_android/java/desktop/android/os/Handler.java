package android.os;

/**
 * Desktop stand-in: posts messages and runnables to a {@link Looper}'s queue;
 * they run later on that looper's thread, never on the caller's.
 */
public class Handler {
    private final Looper looper;

    /** A handler for the current thread's looper (Android throws without one, so does this). */
    public Handler() {
        Looper current = Looper.myLooper();
        if (current == null) {
            throw new RuntimeException("Can't create handler inside thread "
                    + Thread.currentThread() + " that has not called Looper.prepare()");
        }
        this.looper = current;
    }

    public Handler(Looper looper) {
        if (looper == null) {
            throw new NullPointerException("looper");
        }
        this.looper = looper;
    }

    public final Looper getLooper() {
        return looper;
    }

    /** Override to receive messages. */
    public void handleMessage(Message msg) {}

    public void dispatchMessage(Message msg) {
        if (msg.callback != null) {
            msg.callback.run();
        } else {
            handleMessage(msg);
        }
    }

    public final Message obtainMessage(int what) {
        return Message.obtain(this, what);
    }

    public final boolean sendMessage(Message msg) {
        return sendMessageDelayed(msg, 0);
    }

    public final boolean sendMessageDelayed(Message msg, long delayMillis) {
        msg.target = this;
        return looper.enqueue(msg, SystemClock.uptimeMillis() + Math.max(0, delayMillis));
    }

    public final boolean post(Runnable r) {
        return postDelayed(r, 0);
    }

    public final boolean postDelayed(Runnable r, long delayMillis) {
        Message msg = Message.obtain(this, 0);
        msg.callback = r;
        return sendMessageDelayed(msg, delayMillis);
    }

    public final void removeCallbacks(Runnable r) {
        looper.remove(this, r);
    }
}
