package android.content;

import android.content.pm.PackageManager;
import org.hcekit.desktop.Phone;

/** Desktop stand-in (abstract on Android): the package name and features come from {@link Phone}. */
public class Context {
    public String getPackageName() {
        return Phone.get().packageName;
    }

    public PackageManager getPackageManager() {
        return new PackageManager();
    }

    public void startActivity(Intent intent) {
        Phone.get().startedActivities.add(intent);
    }
}
