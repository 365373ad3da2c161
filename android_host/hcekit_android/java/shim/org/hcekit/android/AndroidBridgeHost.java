package org.hcekit.android;

import android.app.Service;
import android.content.ComponentName;
import android.content.Context;
import android.content.pm.PackageManager;
import android.os.Bundle;
import android.util.Log;
import java.lang.reflect.InvocationTargetException;
import org.hcekit.bridge.BridgeHost;
import org.hcekit.bridge.HcekitBridge;

/** {@link HcekitBridge}'s platform on Android: {@code android.util.Log} and the app's context. */
public final class AndroidBridgeHost implements BridgeHost {
    private final Context context;

    public AndroidBridgeHost(Context context) {
        this.context = context;
    }

    /**
     * Configure the bridge from the HCE service's meta-data (the Python service,
     * the cold-start deadline). Called by the service's onCreate, before any command.
     */
    public static void configure(Service service) {
        Bundle meta = null;
        try {
            meta = service.getPackageManager().getServiceInfo(
                    new ComponentName(service, service.getClass().getName()),
                    PackageManager.GET_META_DATA).metaData;
        } catch (PackageManager.NameNotFoundException e) {
            Log.e(HcekitBridge.TAG, "cannot read the HCE service's meta-data: " + e);
        }
        String named = meta == null ? null : meta.getString(HcekitBridge.META_PYTHON_SERVICE);
        int cold = meta == null ? HcekitBridge.DEFAULT_COLD_START_MS
                : meta.getInt(HcekitBridge.META_COLD_START_MS, HcekitBridge.DEFAULT_COLD_START_MS);
        String python = named == null ? null
                : named.startsWith(".") ? service.getPackageName() + named : named;
        HcekitBridge.configure(new AndroidBridgeHost(service.getApplicationContext()), python, cold);
    }

    @Override
    public void log(int level, String message, Throwable error) {
        if (level >= ERROR) {
            Log.e(HcekitBridge.TAG, message, error);
        } else if (level == WARN) {
            Log.w(HcekitBridge.TAG, message, error);
        } else {
            Log.i(HcekitBridge.TAG, message, error);
        }
    }

    /**
     * Start python-for-android's service *className* ({@code Service<Name>}) through
     * its static {@code start(Context, String)}: an explicit intent with the extras
     * PythonService needs. Also for warm starts (at boot, at app launch).
     */
    @Override
    public boolean startPythonService(String className) {
        try {
            Class.forName(className).getMethod("start", Context.class, String.class)
                    .invoke(null, context, "");
            Log.i(HcekitBridge.TAG, "started the Python service " + className);
            return true;
        } catch (InvocationTargetException e) {
            Log.e(HcekitBridge.TAG, "the Python service " + className + " failed to start", e.getCause());
        } catch (ReflectiveOperationException | RuntimeException e) {
            Log.e(HcekitBridge.TAG, "cannot start the Python service " + className
                    + " (is it declared with p4a's services = NAME:ENTRY.py?)", e);
        }
        return false;
    }
}
