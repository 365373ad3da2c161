package android.content;

import android.content.pm.PackageManager;
import android.os.Looper;
import org.hcekit.desktop.Phone;

/** Desktop stand-in (abstract on Android): package, features, activities and services go to {@link Phone}. */
public class Context {
    public static final int BIND_AUTO_CREATE = 0x0001;

    public String getPackageName() {
        return Phone.get().packageName;
    }

    public PackageManager getPackageManager() {
        return new PackageManager();
    }

    public Looper getMainLooper() {
        return Phone.get().mainLooper();
    }

    public void startActivity(Intent intent) {
        Phone.get().startedActivities.add(intent);
    }

    /** Start (or deliver to) the service the explicit *service* intent names. */
    public ComponentName startService(Intent service) {
        return Phone.get().startService(service);
    }

    /** Android 8+: the same, and the service must call startForeground within seconds. */
    public ComponentName startForegroundService(Intent service) {
        return Phone.get().startForegroundService(service);
    }

    public boolean bindService(Intent service, ServiceConnection conn, int flags) {
        return Phone.get().bindService(service, conn, flags);
    }

    public void unbindService(ServiceConnection conn) {
        Phone.get().unbindService(conn);
    }
}
