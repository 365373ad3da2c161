package android.os;

/** Desktop stand-in with Android's public fields and the factory and data methods the model uses. */
public final class Message {
    public int what;
    public int arg1;
    public int arg2;
    public Object obj;
    public Messenger replyTo;

    Handler target;
    Runnable callback;
    long when;
    long sequence;
    private Bundle data;

    public Message() {}

    public static Message obtain() {
        return new Message();
    }

    public static Message obtain(Handler h, int what) {
        Message m = new Message();
        m.target = h;
        m.what = what;
        return m;
    }

    public Handler getTarget() {
        return target;
    }

    public Runnable getCallback() {
        return callback;
    }

    /** The data bundle, created empty on first use (as Android's getData does). */
    public Bundle getData() {
        if (data == null) {
            data = new Bundle();
        }
        return data;
    }

    public Bundle peekData() {
        return data;
    }

    public void setData(Bundle data) {
        this.data = data;
    }

    public void sendToTarget() {
        target.sendMessage(this);
    }
}
