package android.os;

/**
 * Desktop stand-in: {@link #send} enqueues the message on the target
 * handler's looper and returns at once (Android: a one-way binder call that
 * lands in the target process's handler queue).
 */
public final class Messenger {
    private static final class Target implements IBinder {
        final Handler handler;

        Target(Handler handler) {
            this.handler = handler;
        }
    }

    private final Target target;

    public Messenger(Handler target) {
        this.target = new Target(target);
    }

    public Messenger(IBinder target) {
        if (!(target instanceof Target)) {
            throw new IllegalArgumentException("not a Messenger binder: " + target);
        }
        this.target = (Target) target;
    }

    public void send(Message message) throws RemoteException {
        if (!target.handler.sendMessage(message)) {
            throw new RemoteException("the target's looper has quit");
        }
    }

    public IBinder getBinder() {
        return target;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Messenger && ((Messenger) other).target == target;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(target);
    }
}
