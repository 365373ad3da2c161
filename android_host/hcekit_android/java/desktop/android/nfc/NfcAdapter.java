package android.nfc;

import android.content.Context;
import org.hcekit.desktop.Phone;

/** Desktop stand-in: null without NFC hardware, as on Android. */
public final class NfcAdapter {
    private NfcAdapter() {}

    public static NfcAdapter getDefaultAdapter(Context context) {
        if (context == null) {
            throw new IllegalArgumentException("context cannot be null");
        }
        return Phone.get().features.contains("android.hardware.nfc") ? new NfcAdapter() : null;
    }

    public boolean isEnabled() {
        return Phone.get().nfcEnabled;
    }
}
