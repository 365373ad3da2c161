package org.hcekit.example;

import android.app.Service;
import android.content.Context;
import android.content.Intent;
import android.os.IBinder;
import org.hcekit.desktop.Phone;

/**
 * Desktop stand-in (the Android classes around it are real) for the class python-for-android generates for
 * {@code services = hcekit:service.py} (its Service.tmpl.java renders
 * {@code <package>.Service<Name>} extending PythonService, whose static
 * {@code start(Context, String)} builds the explicit intent with the extras
 * PythonService needs and calls {@code startService}). Starting Python is not
 * modelled: tests attach the card themselves, when "Python is up".
 */
public class ServiceHcekit extends Service {
    public static Intent getDefaultIntent(Context ctx, String smallIconName, String contentTitle,
                                          String contentText, String pythonServiceArgument) {
        Intent intent = new Intent(ctx, ServiceHcekit.class);
        intent.putExtra("serviceEntrypoint", "service.py");
        intent.putExtra("pythonName", "hcekit");
        intent.putExtra("serviceStartAsForeground", "false");
        intent.putExtra("pythonServiceArgument", pythonServiceArgument);
        return intent;
    }

    public static void start(Context ctx, String pythonServiceArgument) {
        Intent intent = getDefaultIntent(ctx, "", "hcekit", "Hcekit", pythonServiceArgument);
        ctx.startService(intent);  // the real framework records it (Robolectric starts nothing)
        Phone.get().startService(intent);  // the desktop model's ActivityManager creates the service
    }

    @Override
    public IBinder onBind(Intent intent) {
        return null;
    }
}
