package org.hcekit.desktop;

import android.nfc.NfcAdapter;
import org.robolectric.annotation.Implementation;
import org.robolectric.annotation.Implements;
import org.robolectric.shadows.ShadowNfcAdapter;

/**
 * Robolectric's NfcAdapter shadow, with the app's setObserveModeEnabled first
 * asking the model's NFC service, which refuses a caller that is not the
 * preferred service's app as A16 NfcService.setObserveMode does
 * ({@link Phone#appMaySetObserveMode}). The NFC service's own switches (an
 * autoTransact tap, the preferred service's default) go through
 * {@link #setAsNfcService}, as a privileged caller.
 */
@Implements(NfcAdapter.class)
public class ModelNfcAdapter extends ShadowNfcAdapter {
    @Implementation(minSdk = 35)
    @Override
    protected boolean setObserveModeEnabled(boolean enabled) {
        if (!Phone.get().appMaySetObserveMode()) {
            return false;
        }
        return super.setObserveModeEnabled(enabled);
    }

    /** The NFC service switches observe mode itself (A16 NfcInjector.isPrivileged, NfcService.java:2475). */
    boolean setAsNfcService(boolean enabled) {
        return super.setObserveModeEnabled(enabled);
    }
}
