package org.hcekit.desktop;

import android.content.ComponentName;
import android.nfc.cardemulation.CardEmulation;
import java.util.List;

/**
 * AOSP {@code PreferredServices.registerPreferredForegroundService}: whether a
 * resumed app's service may win over the defaults.
 *
 * <p>Up to Android 14 ({@code isForegroundAllowedLocked}): unless the user
 * allowed the app in front to pay ({@code NFC_PAYMENT_FOREGROUND}), a service
 * with a payment group that is not the default payment service is refused and
 * {@code setPreferredService} returns false. From Android 15 the wallet role
 * holder owns payment routing and the check is gone.
 *
 * <p>A preference belongs to the app's uid while it is in the foreground: it
 * is refused from the background, dropped when the uid leaves the foreground,
 * and only the app in front may unset it (A14 PreferredServices.java:337-387).
 * The model hosts one app's calls, so the caller's uid is this app's.
 */
final class PreferredServices {
    private PreferredServices() {}

    static boolean register(Phone phone, ComponentName component) {
        String flat = component.flattenToString();
        synchronized (phone) {
            // registerUidToBackgroundCallback fails for a uid not in the foreground (A14 :341-350)
            if (!phone.appInForeground || !allowed(phone, flat)) {
                return false;
            }
            phone.preferredService = flat;
        }
        phone.updateDefaultObserveMode();
        return true;
    }

    /** unsetPreferredService: only from the foreground (A14 :374-383), only if this app set one. */
    static boolean unsetFromApp(Phone phone) {
        synchronized (phone) {
            if (!phone.appInForeground) {
                return false;  // "Calling UID is not in the foreground, ignoring!"
            }
        }
        return unregister(phone);
    }

    /**
     * The app's uid gives up its preference (A14 :359-372, unregisterForegroundService;
     * also onUidToBackground, :385-387); the NFC service unbinds the service.
     */
    static boolean unregister(Phone phone) {
        synchronized (phone) {
            if (phone.preferredService == null) {
                return false;  // no preference of this uid
            }
            phone.preferredService = null;
        }
        phone.updateDefaultObserveMode();
        phone.nfc().onPreferredForegroundServiceChanged(null);
        return true;
    }

    /**
     * The app's services changed (a registration): a preferred service that is no
     * longer allowed loses the preference, e.g. one that added a payment group
     * (Android 14 PreferredServices.java:259-283, onServicesUpdated).
     */
    static void servicesUpdated(Phone phone) {
        boolean dropped;
        synchronized (phone) {
            dropped = phone.preferredService != null && !allowed(phone, phone.preferredService);
            if (dropped) {
                phone.preferredService = null;
            }
        }
        if (dropped) {
            phone.updateDefaultObserveMode();
            phone.nfc().onPreferredForegroundServiceChanged(null);
        }
        phone.walletRoleHolderChanged();  // A16 PreferredServices.java:352-357, onServicesUpdated's last step
    }

    /** Android 14 PreferredServices.java:285-310, isForegroundAllowedLocked. */
    private static boolean allowed(Phone phone, String flat) {
        ServiceRecord record = phone.service(flat);
        if (record == null) {
            return false;  // "Requested foreground service unexpectedly removed"
        }
        boolean isDefault = flat.equals(phone.defaultServices.get(CardEmulation.CATEGORY_PAYMENT));
        List<String> payment = record.routedAids(CardEmulation.CATEGORY_PAYMENT);
        return !(phone.apiLevel <= 34 && !isDefault && payment != null && !payment.isEmpty()
                && !phone.paymentAllowsForegroundPreference());
    }
}
