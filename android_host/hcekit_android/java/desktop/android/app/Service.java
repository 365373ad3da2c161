package android.app;

import android.content.ContextWrapper;
import android.content.Intent;
import android.os.IBinder;

/**
 * Desktop stand-in with the lifecycle callbacks Android calls on the app's
 * main thread: {@code onCreate}, {@code onStartCommand}, {@code onBind},
 * {@code onUnbind}, {@code onDestroy} (the model in org.hcekit.desktop calls them).
 */
public abstract class Service extends ContextWrapper {
    public static final int START_NOT_STICKY = 2;
    public static final int START_STICKY = 1;

    public void onCreate() {}

    public int onStartCommand(Intent intent, int flags, int startId) {
        return START_STICKY;
    }

    public abstract IBinder onBind(Intent intent);

    public boolean onUnbind(Intent intent) {
        return false;
    }

    public void onDestroy() {}

    public final void stopSelf() {
        org.hcekit.desktop.Phone.get().stopService(getClass().getName());
    }
}
