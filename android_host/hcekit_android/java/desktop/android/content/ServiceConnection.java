package android.content;

import android.os.IBinder;

/** Desktop stand-in: called on the binding side's main thread. */
public interface ServiceConnection {
    void onServiceConnected(ComponentName name, IBinder service);

    void onServiceDisconnected(ComponentName name);
}
