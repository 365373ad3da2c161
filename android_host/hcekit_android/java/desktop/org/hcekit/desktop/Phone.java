package org.hcekit.desktop;

import android.content.Intent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The simulated phone behind the desktop stand-ins: which features it has,
 * whether NFC is switched on, the default service per category, and what the
 * NFC service does with AID registrations. Tests set it; the stand-ins read it.
 */
public final class Phone {
    private static Phone current = new Phone();

    public String packageName = "org.hcekit.example";
    public final Set<String> features = new HashSet<>();
    public boolean nfcEnabled = true;
    public final Map<String, String> defaultServices = new HashMap<>();
    public boolean paymentAllowsForegroundPreference = false;
    public boolean registrationSucceeds = true;
    public boolean registrationThrows = false;
    public final Map<String, List<String>> dynamicAids = new HashMap<>();
    public String preferredService;
    public final List<Intent> startedActivities = new ArrayList<>();

    private Phone() {
        features.add("android.hardware.nfc");
        features.add("android.hardware.nfc.hce");
    }

    public static synchronized Phone get() {
        return current;
    }

    /** A fresh phone: NFC with HCE, switched on, registrations succeed, no defaults. */
    public static synchronized Phone reset() {
        current = new Phone();
        return current;
    }

    public void setFeature(String name, boolean present) {
        if (present) {
            features.add(name);
        } else {
            features.remove(name);
        }
    }

    public void setNfcEnabled(boolean enabled) { nfcEnabled = enabled; }

    /** *component* as {@code ComponentName.flattenToString()}, or null for none. */
    public void setDefaultService(String category, String component) {
        if (component == null) {
            defaultServices.remove(category);
        } else {
            defaultServices.put(category, component);
        }
    }

    /** "ok", "false" (registerAidsForService returns false) or "throw". */
    public void setRegistration(String outcome) {
        registrationSucceeds = !"false".equals(outcome);
        registrationThrows = "throw".equals(outcome);
    }

    public void setPaymentAllowsForegroundPreference(boolean allowed) {
        paymentAllowsForegroundPreference = allowed;
    }

    public List<String> dynamicAidsFor(String component, String category) {
        return dynamicAids.get(component + "|" + category);
    }

    public String getPreferredService() { return preferredService; }

    public int startedActivityCount() { return startedActivities.size(); }

    public Intent lastStartedActivity() {
        return startedActivities.isEmpty() ? null : startedActivities.get(startedActivities.size() - 1);
    }
}
