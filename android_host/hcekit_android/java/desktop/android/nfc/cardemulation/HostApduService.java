package android.nfc.cardemulation;

import android.app.Service;
import android.os.Bundle;

/**
 * Desktop stand-in with Android's constants and abstract methods.
 * {@code sendResponseApdu} goes to the desktop NFC stack attached with
 * {@link #attachDesktopStack} (desktop only; Android uses a Messenger).
 */
public abstract class HostApduService extends Service {
    public static final String SERVICE_INTERFACE =
            "android.nfc.cardemulation.action.HOST_APDU_SERVICE";
    public static final String SERVICE_META_DATA = "android.nfc.cardemulation.host_apdu_service";
    public static final int DEACTIVATION_LINK_LOSS = 0;
    public static final int DEACTIVATION_DESELECTED = 1;

    /** Desktop only: receives what the service sends. */
    public interface DesktopStack {
        void onResponseApdu(byte[] response);
    }

    private volatile DesktopStack stack;

    public abstract byte[] processCommandApdu(byte[] commandApdu, Bundle extras);

    public abstract void onDeactivated(int reason);

    public final void sendResponseApdu(byte[] responseApdu) {
        DesktopStack target = stack;
        if (target != null) {
            target.onResponseApdu(responseApdu);
        }
    }

    public final void notifyUnhandled() {}

    /** Desktop only. */
    public final void attachDesktopStack(DesktopStack desktopStack) {
        stack = desktopStack;
    }
}
