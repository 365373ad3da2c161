package android.os;

/** Desktop stand-in: an opaque handle to a remote object (here: a {@link Messenger}'s handler). */
public interface IBinder {}
