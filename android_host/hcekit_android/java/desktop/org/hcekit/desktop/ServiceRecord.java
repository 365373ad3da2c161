package org.hcekit.desktop;

import android.app.Service;
import android.content.ComponentName;
import android.content.Intent;
import android.content.ServiceConnection;
import org.robolectric.android.controller.ServiceController;
import android.nfc.cardemulation.CardEmulation;
import android.os.Bundle;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One installed HCE service as the NFC service knows it (AOSP
 * {@code ApduServiceInfo}) plus its running state (AOSP ActivityManager).
 *
 * <p>AID groups follow {@code ApduServiceInfo}: at most one static group per
 * category from the AID XML, at most one dynamic group per category from
 * {@code registerAidsForService}, and where both exist for a category the
 * dynamic group replaces the static one entirely ({@code getAidGroups}).
 * {@code removeAidsForService} drops the dynamic group, so the static group
 * routes again.
 */
public final class ServiceRecord {
    public final ComponentName component;
    public final String description;
    public final boolean requiresUnlock;
    public final boolean requiresScreenOn;
    public final boolean hasBanner;
    /** {@code android:process} of the service ("" = the app's main process). */
    public final String process;
    final Map<String, List<String>> staticGroups = new LinkedHashMap<>();
    /** {@code <meta-data android:name android:value>} of the service element. */
    final Map<String, Object> metaData = new LinkedHashMap<>();
    final Map<String, List<String>> dynamicGroups = new LinkedHashMap<>();
    /** Polling-loop filters, static and registered (API 35): frame hex / pattern → autoTransact. */
    final Map<String, Boolean> pollingFilters = new LinkedHashMap<>();
    final Map<String, Boolean> pollingPatterns = new LinkedHashMap<>();
    boolean shouldDefaultToObserveMode;
    /**
     * {@code android:wantsRoleHolderPriority} of the AID XML: the service asks to
     * share the wallet role holder's priority (A16; see {@link Phone#sharesRoleHolderPriority}).
     */
    boolean wantsRoleHolderPriority;
    /**
     * The user's per-service switch for "other" (Android 15+ Settings; A16
     * RegisteredServicesCache.java:678-701: on for a newly installed service).
     * Off, the service's "other" AIDs route to nobody unless it is preferred
     * (A16 RegisteredAidCache.java:327-362, :494-510).
     */
    boolean otherEnabled = true;

    // -- running state (guarded by the Phone) ------------------------------------------
    ServiceController<? extends Service> controller;
    boolean started;
    final List<ServiceConnection> connections = new ArrayList<>();
    final List<Intent> startIntents = new ArrayList<>();
    int creations;

    ServiceRecord(ComponentName component, String description, boolean requiresUnlock,
                  boolean requiresScreenOn, boolean hasBanner, String process) {
        this.component = component;
        this.description = description;
        this.requiresUnlock = requiresUnlock;
        this.requiresScreenOn = requiresScreenOn;
        this.hasBanner = hasBanner;
        this.process = process == null ? "" : process;
    }

    /** The meta-data as Android hands it to the service (null when there is none). */
    public synchronized Bundle metaData() {
        if (metaData.isEmpty()) {
            return null;
        }
        Bundle bundle = new Bundle();
        for (Map.Entry<String, Object> entry : metaData.entrySet()) {
            if (entry.getValue() instanceof Integer) {
                bundle.putInt(entry.getKey(), (Integer) entry.getValue());
            } else {
                bundle.putString(entry.getKey(), String.valueOf(entry.getValue()));
            }
        }
        return bundle;
    }

    /** The groups that route: dynamic where present, else static (ApduServiceInfo.getAidGroups). */
    synchronized Map<String, List<String>> effectiveGroups() {
        Map<String, List<String>> groups = new LinkedHashMap<>();
        for (String category : new String[] {CardEmulation.CATEGORY_PAYMENT, CardEmulation.CATEGORY_OTHER}) {
            List<String> dynamic = dynamicGroups.get(category);
            List<String> chosen = dynamic != null ? dynamic : staticGroups.get(category);
            if (chosen != null) {
                groups.put(category, new ArrayList<>(chosen));
            }
        }
        return groups;
    }

    public synchronized boolean hasCategory(String category) {
        return staticGroups.containsKey(category) || dynamicGroups.containsKey(category);
    }

    /** The AIDs that route to this service for *category* now (dynamic over static), or null. */
    public List<String> routedAids(String category) {
        return effectiveGroups().get(category);
    }

    public synchronized List<String> staticAids(String category) {
        List<String> aids = staticGroups.get(category);
        return aids == null ? null : new ArrayList<>(aids);
    }

    /** The autoTransact of the filter matching polling frame *hex*, or null (no filter matches). */
    synchronized Boolean matchPollingFrame(String hex) {
        Boolean exact = pollingFilters.get(hex);
        if (exact != null) {
            return exact;
        }
        for (Map.Entry<String, Boolean> pattern : pollingPatterns.entrySet()) {
            if (java.util.regex.Pattern.matches(pattern.getKey(), hex)) {
                return pattern.getValue();
            }
        }
        return null;
    }

    public synchronized boolean hasPollingFilter(String value) {
        return pollingFilters.containsKey(value) || pollingPatterns.containsKey(value);
    }

    synchronized boolean otherEnabled() {
        return otherEnabled;
    }

    public synchronized boolean shouldDefaultToObserveMode() {
        return shouldDefaultToObserveMode;
    }

    public synchronized int creations() {
        return creations;
    }

    public synchronized boolean isRunning() {
        return controller != null;
    }

    public synchronized int startIntentCount() {
        return startIntents.size();
    }

    public synchronized Intent lastStartIntent() {
        return startIntents.isEmpty() ? null : startIntents.get(startIntents.size() - 1);
    }
}
