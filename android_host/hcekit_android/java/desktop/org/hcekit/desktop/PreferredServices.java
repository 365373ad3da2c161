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
 */
final class PreferredServices {
    private PreferredServices() {}

    static boolean register(Phone phone, ComponentName component) {
        String flat = component.flattenToString();
        synchronized (phone) {
            if (!allowed(phone, flat)) {
                return false;
            }
            phone.preferredService = flat;
        }
        phone.updateDefaultObserveMode();
        return true;
    }

    /**
     * The app's services changed (a registration): a preferred service that is no
     * longer allowed loses the preference, e.g. one that added a payment group
     * (Android 14 PreferredServices.java:259-283, onServicesUpdated).
     */
    static void servicesUpdated(Phone phone) {
        synchronized (phone) {
            if (phone.preferredService == null || allowed(phone, phone.preferredService)) {
                return;
            }
            phone.preferredService = null;
        }
        phone.updateDefaultObserveMode();
        phone.nfc().onPreferredForegroundServiceChanged(null);
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
