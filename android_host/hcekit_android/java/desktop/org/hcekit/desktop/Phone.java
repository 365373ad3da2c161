package org.hcekit.desktop;

import static org.robolectric.Shadows.shadowOf;

import android.app.Activity;
import android.app.Application;
import android.app.Service;
import android.content.ComponentName;
import android.content.Context;
import android.content.Intent;
import android.content.ServiceConnection;
import android.content.pm.PackageManager;
import android.content.pm.ServiceInfo;
import android.nfc.NfcAdapter;
import android.nfc.cardemulation.CardEmulation;
import android.os.Bundle;
import android.os.Handler;
import android.os.IBinder;
import android.os.Looper;
import android.provider.Settings;
import android.util.Log;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.hcekit.bridge.HcekitBridge;
import org.robolectric.Robolectric;
import org.robolectric.RuntimeEnvironment;
import org.robolectric.android.controller.ServiceController;
import org.robolectric.shadows.ShadowLog;
import org.robolectric.shadows.ShadowNfcAdapter;

/**
 * The phone around the real Android framework (Robolectric's android-all):
 * its features and NFC switch (set through Robolectric's shadows, read by the
 * real {@code PackageManager}/{@code NfcAdapter}), the controller's AID routing
 * abilities, the screen and lock state, the default payment service, the
 * installed HCE services with their AID groups (the NFC service's registry,
 * AOSP RegisteredServicesCache), and the processes their services run in
 * (AOSP ActivityManager, as far as HCE needs it). The services themselves are
 * real framework objects, created and bound through Robolectric's
 * {@link ServiceController} on the app's real main thread.
 *
 * <p>One JVM holds one app process: services of every "process" run on
 * Robolectric's one main looper, and a process is bookkeeping (which ones are
 * running, which were started); closing the app destroys its main process's
 * services. Tests set the phone; {@link NfcStack} and {@link CardEmulationService}
 * read it.
 */
public final class Phone {
    /** The package Robolectric's application runs as (PhoneSession's @Config). */
    public static final String PACKAGE = "org.hcekit.example";
    /** From this level the wallet role holder takes the default payment service's place. */
    public static final int WALLET_ROLE_API = 35;
    /**
     * From this level the model follows the Android 16 NFC module's source (the
     * one mirrored, packages/modules/Nfc); below it, Android 14's packages/apps/Nfc.
     */
    public static final int MODULE_API = 35;
    /**
     * From this level apps may share the wallet role holder's priority (flag
     * nfc_associated_role_services, CardEmulation.PROPERTY_ALLOW_SHARED_ROLE_PRIORITY).
     */
    public static final int SHARED_ROLE_PRIORITY_API = 36;
    private static Phone current;

    public final String packageName = PACKAGE;
    /** The Android API level Robolectric runs (its android-all jar). */
    public final int apiLevel = android.os.Build.VERSION.SDK_INT;
    public final Map<String, String> defaultServices = new HashMap<>();
    /** The controller routes prefix AIDs (AOSP AidRoutingManager.supportsAidPrefixRouting). */
    public boolean prefixRouting = false;
    /** The controller routes subset AIDs (supportsAidSubsetRouting; no public API reports it). */
    public boolean subsetRouting = false;
    /** The keyguard is showing. */
    public boolean locked = false;
    /**
     * Secure NFC is on (Settings; NfcAdapter.isSecureNfcEnabled): with the
     * phone locked, no host service gets a tap (AOSP Android 14
     * HostEmulationManager.java:248-249).
     */
    public boolean secureNfc = false;
    /** The screen is on (HostEmulationManager refuses host services with the screen off). */
    public boolean screenOn = true;
    public String preferredService;
    /** The preferred service when observe mode's default was last decided (A16 CardEmulationManager :1581). */
    private String observeDefaultFrom;
    /** The wallet role holder's package (API 35+), or null: see {@link #setWalletRoleHolder}. */
    public String walletRoleHolder;
    /** The holder's payment service is derived from its services (not named by setDefaultService). */
    private boolean holderPaymentDerived;
    /** This app's uid is in the foreground (ActivityManager's importance; AOSP ForegroundUtils). */
    public boolean appInForeground = true;
    /** Packages whose manifest sets PROPERTY_ALLOW_SHARED_ROLE_PRIORITY to true. */
    private final Set<String> sharedRolePriority = new HashSet<>();
    /** Package → signing certificate (a name); a package not listed is signed by its own. */
    private final Map<String, String> signers = new HashMap<>();
    boolean registrationSucceeds = true;
    boolean registrationThrows = false;
    private final List<Intent> startedActivities = new ArrayList<>();

    private final Map<String, ServiceRecord> services = new LinkedHashMap<>();
    private final Set<String> processes = new HashSet<>();
    private final Map<ServiceConnection, ServiceRecord> bindings = new HashMap<>();
    private final Map<ServiceConnection, Looper> callerLoopers = new HashMap<>();
    private final List<String> processStarts = new ArrayList<>();
    private NfcStack nfc;

    private Phone() {}

    /** The application (the real framework's, as Robolectric built it). */
    public static Context context() {
        return RuntimeEnvironment.getApplication();
    }

    public static synchronized Phone get() {
        if (current == null) {
            return reset();
        }
        return current;
    }

    /**
     * A fresh phone: NFC with HCE, switched on, screen on and unlocked, no
     * prefix routing, no defaults, no services installed, the app's main
     * process running.
     */
    public static synchronized Phone reset() {
        if (current != null) {
            current.shutdown();
        }
        current = new Phone();
        ShadowLog.clear();
        OtherAppService.forget();
        onMainThread(() -> {
            current.setFeature(PackageManager.FEATURE_NFC, true);
            current.setFeature(PackageManager.FEATURE_NFC_HOST_CARD_EMULATION, true);
            current.setNfcEnabled(true);
            current.setPaymentAllowsForegroundPreference(false);
            if (current.apiLevel >= OBSERVE_MODE_API) {
                current.setObserveModeSupported(true);
                current.setObserveModeEnabled(false);
            }
            if (current.apiLevel >= WALLET_ROLE_API) {
                makeWalletRoleAvailable();
            }
            CardEmulationService.install(current);
            return null;
        });
        current.startProcess(current.packageName, "");
        return current;
    }

    /**
     * A phone of API 35+ has the wallet role (RoleManager.isRoleAvailable), which
     * the real CardEmulation.categoryAllowsForegroundPreference reads (A16
     * framework CardEmulation.java:388-395: then true for every category).
     */
    @SuppressWarnings("deprecation")  // Robolectric's only way to declare an available role
    private static void makeWalletRoleAvailable() {
        android.app.role.RoleManager roles = context().getSystemService(android.app.role.RoleManager.class);
        ((org.robolectric.shadows.ShadowRoleManager) org.robolectric.shadow.api.Shadow.extract(roles))
                .addAvailableRole("android.app.role.WALLET");
    }

    private void shutdown() {
        NfcStack stack;
        List<ServiceRecord> all;
        synchronized (this) {
            stack = nfc;
            nfc = null;
            all = new ArrayList<>(services.values());
            processes.clear();
        }
        if (stack != null) {
            stack.shutdown();
        }
        for (ServiceRecord record : all) {
            destroy(record);
        }
    }

    /** Run *task* on the app's main thread and wait for it (at once if already there). */
    public static <T> T onMainThread(Callable<T> task) {
        Looper main = Looper.getMainLooper();
        if (main.isCurrentThread()) {
            try {
                return task.call();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        FutureTask<T> future = new FutureTask<>(task);
        new Handler(main).post(future);
        try {
            return future.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("on the main thread: " + e, e);
        }
    }

    // -- device settings (tests) -------------------------------------------------------

    public void setFeature(String name, boolean present) {
        onMainThread(() -> {
            shadowOf(context().getPackageManager()).setSystemFeature(name, present);
            if (PackageManager.FEATURE_NFC.equals(name)) {
                ShadowNfcAdapter.setNfcHardwareExists(present);
            }
            return null;
        });
    }

    public void setNfcEnabled(boolean enabled) {
        boolean turnedOn = onMainThread(() -> {
            NfcAdapter adapter = NfcAdapter.getDefaultAdapter(context());
            if (adapter == null) {
                return false;
            }
            boolean was = adapter.isEnabled();
            shadowOf(adapter).setEnabled(enabled);
            return enabled && !was;
        });
        if (turnedOn) {
            updateForShouldDefaultToObserveMode();  // NFC on: A16 NfcService.java:2152-2154
        }
    }

    public void setPrefixRouting(boolean supported) { prefixRouting = supported; }

    public void setSubsetRouting(boolean supported) { subsetRouting = supported; }

    public void setLocked(boolean isLocked) { locked = isLocked; }

    public void setScreenOn(boolean on) { screenOn = on; }

    public void setSecureNfc(boolean on) { secureNfc = on; }

    private CountDownLatch mainHold;

    /** Tests: keep the app's main thread busy until {@link #releaseMainThread()} (a slow app). */
    public synchronized void holdMainThread() {
        CountDownLatch hold = new CountDownLatch(1);
        mainHold = hold;
        CountDownLatch started = new CountDownLatch(1);
        new Handler(Looper.getMainLooper()).post(() -> {
            started.countDown();
            try {
                hold.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            started.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public synchronized void releaseMainThread() {
        if (mainHold != null) {
            mainHold.countDown();
            mainHold = null;
        }
    }

    /**
     * *component* as {@code ComponentName.flattenToString()}, or null for none.
     * For "payment" this is the user's default payment service (Android 14) or,
     * from API 35, a shorthand naming both the wallet role holder (the
     * component's app) and its payment service, where Android would take the
     * holder's first service with a payment AID ({@link #setWalletRoleHolder}
     * derives it so). The NFC service binds it now and keeps it bound.
     */
    public void setDefaultService(String category, String component) {
        boolean payment = CardEmulation.CATEGORY_PAYMENT.equals(category);
        synchronized (this) {
            if (component == null) {
                defaultServices.remove(category);
            } else {
                defaultServices.put(category, component);
            }
            if (payment && apiLevel >= WALLET_ROLE_API) {
                // shorthand: the component's app holds the role and this is its payment service
                walletRoleHolder = component == null ? null
                        : ComponentName.unflattenFromString(component).getPackageName();
                holderPaymentDerived = false;
            }
        }
        if (payment) {
            paymentServiceChanged(component);
        }
    }

    private void paymentServiceChanged(String component) {
        nfc().paymentServiceChanged(component == null ? null : ComponentName.unflattenFromString(component));
        preferredServiceChanged();
    }

    /**
     * Test rig: the user makes the app *pkg* the wallet role holder, or nobody
     * (Settings, Default apps; RoleManager.addRoleHolderAsUser is a system API).
     * API 35+, as A16 CardEmulationManager.onWalletRoleHolderChanged
     * (:1739-1742) tells both halves: the default payment service becomes the
     * holder's first service with a payment AID, or none if it has none or is
     * not installed (PreferredServices.java:166-200), and the holder's services
     * win the AIDs they claim whatever the default payment service
     * (RegisteredAidCache.java:1400-1407, routed by package).
     */
    public void setWalletRoleHolder(String pkg) {
        if (apiLevel < WALLET_ROLE_API) {
            throw new IllegalStateException("API " + apiLevel + " has no wallet role");
        }
        synchronized (this) {
            walletRoleHolder = pkg;
            holderPaymentDerived = true;
        }
        walletRoleHolderChanged();
    }

    /**
     * The holder's payment service, derived again: when the role moves, and
     * whenever services change (A16 PreferredServices.java:352-357:
     * onServicesUpdated ends by calling onWalletRoleHolderChanged again).
     */
    void walletRoleHolderChanged() {
        String candidate = null;
        boolean changed;
        synchronized (this) {
            if (!holderPaymentDerived) {
                return;
            }
            String pkg = walletRoleHolder;
            for (ServiceRecord record : services.values()) {
                List<String> aids = record.routedAids(CardEmulation.CATEGORY_PAYMENT);
                if (record.component.getPackageName().equals(pkg) && aids != null && !aids.isEmpty()) {
                    candidate = record.component.flattenToString();
                    break;
                }
            }
            String before = defaultServices.get(CardEmulation.CATEGORY_PAYMENT);
            changed = candidate == null ? before != null : !candidate.equals(before);
            if (candidate == null) {
                defaultServices.remove(CardEmulation.CATEGORY_PAYMENT);
            } else {
                defaultServices.put(CardEmulation.CATEGORY_PAYMENT, candidate);
            }
        }
        if (changed) {
            paymentServiceChanged(candidate);
        }
    }

    /**
     * CardEmulation.isDefaultServiceForCategory. From API 35 every installed
     * service of the wallet role holder's package is the default, in any
     * category, whether or not it has a payment AID (A16
     * CardEmulationManager.java:777-796); before, the user's default service.
     */
    synchronized boolean isDefaultServiceForCategory(ComponentName component, String category) {
        String flat = component.flattenToString();
        if (apiLevel >= WALLET_ROLE_API) {
            return services.containsKey(flat) && component.getPackageName().equals(walletRoleHolder);
        }
        return flat.equals(defaultServices.get(category));
    }

    /**
     * CardEmulation.getSelectionModeForCategory(payment) asks this: from API 35
     * whether there is a wallet role holder, before whether the user chose a
     * default payment service (A16 CardEmulationManager.java:1159-1168).
     */
    synchronized boolean isDefaultPaymentRegistered() {
        if (apiLevel >= WALLET_ROLE_API) {
            return walletRoleHolder != null;
        }
        return defaultServices.get(CardEmulation.CATEGORY_PAYMENT) != null;
    }

    /**
     * Test rig: the manifest of *pkg* sets the application property
     * CardEmulation.PROPERTY_ALLOW_SHARED_ROLE_PRIORITY to *allowed*.
     */
    public synchronized void setAllowSharedRolePriority(String pkg, boolean allowed) {
        if (allowed) {
            sharedRolePriority.add(pkg);
        } else {
            sharedRolePriority.remove(pkg);
        }
    }

    /** Test rig: *pkg* is signed with *certificate* (packages are signed alike when the names match). */
    public synchronized void setSigner(String pkg, String certificate) {
        signers.put(pkg, certificate);
    }

    /**
     * Whether *record* wins as the wallet role holder's own: a service of the
     * holder, or from API 36 (flag nfc_associated_role_services) a service
     * that asks for it ({@code android:wantsRoleHolderPriority}) of an app
     * signed like the holder, when the holder's manifest allows it
     * (PROPERTY_ALLOW_SHARED_ROLE_PRIORITY). A16 RegisteredAidCache.java:383-400
     * (isDefaultOrAssociatedWalletService), :1411-1451 (generateAssociatedRoleServicesLocked).
     */
    synchronized boolean sharesRoleHolderPriority(ServiceRecord record) {
        String holder = walletRoleHolder;
        String pkg = record.component.getPackageName();
        if (holder == null || apiLevel < WALLET_ROLE_API) {
            return false;
        }
        if (pkg.equals(holder)) {
            return true;
        }
        return apiLevel >= SHARED_ROLE_PRIORITY_API && sharedRolePriority.contains(holder)
                && record.wantsRoleHolderPriority
                && signers.getOrDefault(holder, holder).equals(signers.getOrDefault(pkg, pkg));
    }

    /**
     * Test rig: the user switches *component*'s "other" AIDs on or off (Android
     * 15+ Settings; CardEmulation.setServiceEnabledForCategoryOther is a system
     * API). False if nothing changed (A16 RegisteredServicesCache.java:1412-1445,
     * SET_SERVICE_ENABLED_STATUS_FAILURE_ALREADY_SET / _INVALID_SERVICE).
     */
    public boolean setServiceEnabledForCategoryOther(String component, boolean enabled) {
        if (apiLevel < MODULE_API) {
            throw new IllegalStateException("API " + apiLevel + " has no per-service switch for other");
        }
        ServiceRecord record = service(component);
        if (record == null) {
            return false;
        }
        synchronized (record) {
            if (record.otherEnabled == enabled) {
                return false;
            }
            record.otherEnabled = enabled;
        }
        commitRouting();
        return true;
    }

    /**
     * Test rig: this app's uid enters or leaves the foreground (ActivityManager's
     * uid importance, which AOSP's ForegroundUtils watches). Leaving drops the
     * preference it set (A14 PreferredServices.java:385-387, onUidToBackground).
     */
    public void setAppInForeground(boolean foreground) {
        synchronized (this) {
            appInForeground = foreground;
        }
        if (!foreground) {
            PreferredServices.unregister(this);
        }
    }

    /** "ok", "false" (registerAidsForService returns false) or "throw". */
    public void setRegistration(String outcome) {
        registrationSucceeds = !"false".equals(outcome);
        registrationThrows = "throw".equals(outcome);
    }

    /** The user's "use the app in front" setting (Settings.Secure.NFC_PAYMENT_FOREGROUND). */
    public void setPaymentAllowsForegroundPreference(boolean allowed) {
        onMainThread(() -> Settings.Secure.putInt(context().getContentResolver(),
                "nfc_payment_foreground", allowed ? 1 : 0));
    }

    boolean paymentAllowsForegroundPreference() {
        return Settings.Secure.getInt(context().getContentResolver(), "nfc_payment_foreground", 0) != 0;
    }

    public synchronized String getPreferredService() { return preferredService; }

    /** A resumed activity of this app (setPreferredService needs one). */
    public Activity resumedActivity() {
        return onMainThread(() -> Robolectric.buildActivity(Activity.class).setup().get());
    }

    private synchronized void collectStartedActivities() {
        Application app = RuntimeEnvironment.getApplication();
        Intent next;
        while ((next = shadowOf(app).getNextStartedActivity()) != null) {
            startedActivities.add(next);
        }
    }

    public int startedActivityCount() {
        collectStartedActivities();
        synchronized (this) {
            return startedActivities.size();
        }
    }

    public Intent lastStartedActivity() {
        collectStartedActivities();
        synchronized (this) {
            return startedActivities.isEmpty() ? null : startedActivities.get(startedActivities.size() - 1);
        }
    }

    /** Everything the framework logged so far (Robolectric's ShadowLog), as "tag: message". */
    public static String[] logLines() {
        List<String> lines = new ArrayList<>();
        for (ShadowLog.LogItem item : ShadowLog.getLogs()) {
            lines.add(item.tag + ": " + item.msg + (item.throwable == null ? "" : " " + item.throwable));
        }
        return lines.toArray(new String[0]);
    }

    // -- the NFC service's registry (AOSP RegisteredServicesCache) ---------------------

    /**
     * Install an HCE service of this app: *className* with the host-apdu-service
     * XML *aidXml* (null: a service with no aid-group, dynamic AIDs only).
     */
    public ServiceRecord installService(String className, String aidXml) {
        return installService(packageName, className, aidXml, "");
    }

    /** The same in another package or process (*process*: android:process, "" for the main one). */
    public ServiceRecord installService(String pkg, String className, String aidXml, String process) {
        return installService(pkg, className, aidXml, process, null);
    }

    ServiceRecord installService(String pkg, String className, String aidXml, String process,
                                 Map<String, Object> metaData) {
        AidXml info = AidXml.parse(aidXml != null ? aidXml
                : "<host-apdu-service xmlns:android=\"" + AidXml.ANDROID_NS
                  + "\" android:description=\"" + className + "\"/>");
        ServiceRecord record = new ServiceRecord(new ComponentName(pkg, className), info.description,
                info.requiresUnlock, info.requiresScreenOn, info.hasBanner, process);
        record.staticGroups.putAll(info.groups);
        record.pollingFilters.putAll(info.pollingFilters);
        record.pollingPatterns.putAll(info.pollingPatterns);
        record.shouldDefaultToObserveMode = info.shouldDefaultToObserveMode;
        record.wantsRoleHolderPriority = info.wantsRoleHolderPriority;
        if (metaData != null) {
            record.metaData.putAll(metaData);
        }
        register(record);
        return record;
    }

    /** Put *record* in the registry and, for this app, in the real PackageManager (meta-data). */
    private void register(ServiceRecord record) {
        synchronized (this) {
            services.put(record.component.flattenToString(), record);
        }
        if (record.component.getPackageName().equals(packageName)) {
            onMainThread(() -> {
                ServiceInfo info = new ServiceInfo();
                info.packageName = packageName;
                info.name = record.component.getClassName();
                info.exported = true;
                info.metaData = record.metaData();
                info.processName = record.process.isEmpty() ? packageName : packageName + record.process;
                info.applicationInfo = context().getApplicationInfo();
                shadowOf(context().getPackageManager()).addOrUpdateService(info);
                return null;
            });
        }
        walletRoleHolderChanged();  // a new service of the holder may be its payment service
    }

    /**
     * Install the app's services as *manifestXml* (a whole AndroidManifest.xml)
     * declares them, the way the NFC service's registry reads them (AOSP
     * RegisteredServicesCache): an HCE service (HOST_APDU_SERVICE intent
     * filter) counts only if exported, protected by BIND_NFC_SERVICE, in an app
     * holding android.permission.NFC, with its host_apdu_service meta-data;
     * its AID XML is *aidXml* when the meta-data names {@code @xml/}*xmlName*.
     * Other services (the python-for-android one) are installed as plain
     * services with their process. Returns how many HCE services were accepted.
     */
    public int installFromManifest(String manifestXml, String xmlName, String aidXml) {
        return ManifestReader.install(this, manifestXml, xmlName, aidXml);
    }

    /** A service that is not an HCE service (no AID groups). */
    public ServiceRecord installPlainService(String className, String process) {
        ServiceRecord record = new ServiceRecord(new ComponentName(packageName, className), className,
                false, false, false, process);
        register(record);
        return record;
    }

    /** Another app with {@link OtherAppService} on {@link OtherAppService#AID} ("other"). */
    public ServiceRecord installOtherApp() {
        return installService(OtherAppService.PACKAGE, OtherAppService.class.getName(),
                "<host-apdu-service xmlns:android=\"" + AidXml.ANDROID_NS + "\" android:description=\"x\">"
                + "<aid-group android:category=\"other\" android:description=\"x\">"
                + "<aid-filter android:name=\"" + OtherAppService.AID + "\"/></aid-group>"
                + "</host-apdu-service>", "");
    }

    public synchronized ServiceRecord service(String flattened) {
        return services.get(flattened);
    }

    public synchronized List<ServiceRecord> services() {
        return new ArrayList<>(services.values());
    }

    /** AOSP RegisteredServicesCache.registerAidGroupForService (the AidGroup is already checked). */
    public boolean registerAidGroup(ComponentName component, String category, List<String> aids) {
        ServiceRecord record = service(component.flattenToString());
        if (record == null || !record.component.getPackageName().equals(packageName)) {
            return false;  // not installed, or another app's (UID mismatch)
        }
        for (String aid : aids) {
            if (!CardEmulation.isValidAid(aid)) {
                return false;
            }
        }
        Map<String, List<String>> before = record.effectiveGroups();
        synchronized (record) {
            record.dynamicGroups.put(category, new ArrayList<>(aids));
        }
        routingMayHaveChanged(record, before);
        PreferredServices.servicesUpdated(this);
        return true;
    }

    /** A changed routing table is committed, which ends a tap in progress ({@link NfcStack#routingChanged}). */
    private void routingMayHaveChanged(ServiceRecord record, Map<String, List<String>> before) {
        if (!before.equals(record.effectiveGroups())) {
            commitRouting();
        }
    }

    private void commitRouting() {
        NfcStack stack;
        synchronized (this) {
            stack = nfc;
        }
        if (stack != null) {
            stack.routingChanged();
        }
    }

    public boolean removeAidGroup(ComponentName component, String category) {
        ServiceRecord record = service(component.flattenToString());
        if (record == null || !record.component.getPackageName().equals(packageName)) {
            return false;
        }
        Map<String, List<String>> before = record.effectiveGroups();
        boolean removed;
        synchronized (record) {
            removed = record.dynamicGroups.remove(category) != null;
        }
        routingMayHaveChanged(record, before);
        PreferredServices.servicesUpdated(this);
        return removed;
    }

    public List<String> dynamicAids(ComponentName component, String category) {
        ServiceRecord record = service(component.flattenToString());
        if (record == null) {
            return null;
        }
        synchronized (record) {
            List<String> aids = record.dynamicGroups.get(category);
            return aids == null ? null : new ArrayList<>(aids);
        }
    }

    /** Tests: the dynamic AIDs of *component* (flattened) for *category*, or null. */
    public List<String> dynamicAidsFor(String component, String category) {
        return dynamicAids(ComponentName.unflattenFromString(component), category);
    }

    /** Tests: what routes to *component* for *category* now (dynamic over static), or null. */
    public List<String> routedAidsFor(String component, String category) {
        ServiceRecord record = service(component);
        return record == null ? null : record.routedAids(category);
    }

    // -- observe mode (Android 15+) ------------------------------------------------------

    /** From this level the controller can observe a reader's polling loop (PollingFrame, filters). */
    public static final int OBSERVE_MODE_API = 35;

    /** NfcAdapter.isObserveModeEnabled() (false below API 35). */
    public boolean observeModeEnabled() {
        return apiLevel >= OBSERVE_MODE_API && (Boolean) adapterCall("isObserveModeEnabled");
    }

    /** NfcAdapter.setObserveModeEnabled, as the NFC service calls it (allowOneTransaction). */
    void setObserveModeEnabled(boolean enabled) {
        if (apiLevel >= OBSERVE_MODE_API) {
            NfcAdapter adapter = NfcAdapter.getDefaultAdapter(context());
            ((ModelNfcAdapter) org.robolectric.shadow.api.Shadow.extract(adapter)).setAsNfcService(enabled);
        }
    }

    /**
     * Whether this app's NfcAdapter.setObserveModeEnabled is accepted (A16
     * NfcService.setObserveMode, NfcService.java:2463-2504): NFC on; the app
     * of the service preferred in front, or with none the wallet role holder
     * or an app sharing its priority (RegisteredAidCache
     * isPreferredServicePackageNameForUser, :1470-1502, and
     * isDefaultOrAssociatedWalletPackage, :406-424); and no tap under way.
     */
    boolean appMaySetObserveMode() {
        if (!(Boolean) adapterCall("isEnabled")) {
            return false;
        }
        boolean preferred = false;
        NfcStack stack;
        synchronized (this) {
            stack = nfc;
            if (preferredService != null) {
                preferred = preferredService.startsWith(packageName + "/");
            } else {
                for (ServiceRecord record : services.values()) {
                    if (record.component.getPackageName().equals(packageName)
                            && sharesRoleHolderPriority(record)) {
                        preferred = true;
                    }
                }
                preferred = preferred || packageName.equals(walletRoleHolder);
            }
        }
        if (!preferred) {
            Log.e("NfcService", "setObserveMode: Caller not preferred NFC service.");
            return false;
        }
        if (stack != null && stack.hostCardEmulationActivated()) {
            Log.w("NfcService", "setObserveMode: Cannot set observe mode during a transaction.");
            return false;
        }
        return true;
    }

    /** Whether this phone's controller can observe (NfcAdapter.isObserveModeSupported()). */
    public void setObserveModeSupported(boolean supported) {
        onMainThread(() -> {
            NfcAdapter adapter = NfcAdapter.getDefaultAdapter(context());
            if (adapter != null) {
                shadowOf(adapter).setObserveModeSupported(supported);
            }
            return null;
        });
    }

    private static Object adapterCall(String method, Object... args) {
        NfcAdapter adapter = NfcAdapter.getDefaultAdapter(context());
        try {
            if (args.length == 0) {
                return NfcAdapter.class.getMethod(method).invoke(adapter);
            }
            return NfcAdapter.class.getMethod(method, boolean.class).invoke(adapter, args);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("NfcAdapter." + method + ": " + e, e);
        }
    }

    /**
     * The preferred service changed, maybe: if A16 RegisteredAidCache.getPreferredService
     * (:1453-1468) now names another service, that one's shouldDefaultToObserveMode
     * decides observe mode (CardEmulationManager.onPreferredPaymentServiceChanged /
     * onPreferredForegroundServiceChanged, :1578-1607, compare old and new). The
     * preferred service is the one preferred in the foreground, else the default
     * payment service: from API 35 the wallet role holder's first service with a
     * payment AID (PreferredServices.java:166-200), so a holder with only "other"
     * AIDs has none and its services' default never applies.
     */
    void preferredServiceChanged() {
        boolean changed;
        synchronized (this) {
            String now = preferredService != null ? preferredService
                    : defaultServices.get(CardEmulation.CATEGORY_PAYMENT);
            changed = !java.util.Objects.equals(now, observeDefaultFrom);
            observeDefaultFrom = now;
        }
        if (changed) {
            updateForShouldDefaultToObserveMode();
        }
    }

    /**
     * A16 CardEmulationManager.updateForShouldDefaultToObserveMode (:1656-1675):
     * observe mode becomes the preferred service's shouldDefaultToObserveMode,
     * off when there is none or it is not installed (RegisteredServicesCache
     * doesServiceShouldDefaultToObserveMode, :1517-1525), through the NFC
     * service's {@link NfcStack#updateForShouldDefaultToObserveMode}.
     */
    void updateForShouldDefaultToObserveMode() {
        if (apiLevel < OBSERVE_MODE_API) {
            return;
        }
        ServiceRecord preferred;
        NfcStack stack;
        synchronized (this) {
            preferred = observeDefaultFrom == null ? null : services.get(observeDefaultFrom);
            stack = nfc;
        }
        boolean enabled = preferred != null && preferred.shouldDefaultToObserveMode();
        if (stack == null) {
            setObserveModeEnabled(enabled);  // no NFC service model yet: no tap, nothing pending
        } else {
            stack.updateForShouldDefaultToObserveMode(enabled);  // A16 CardEmulationManager :1671
        }
    }

    /**
     * Whether *pkg* has a uid in the foreground (A16 HostEmulationManager
     * arePackagesInForeground, :492-523, through ForegroundUtils): this app
     * while {@link #appInForeground}; the model's other apps have no activity.
     */
    synchronized boolean packageInForeground(String pkg) {
        return appInForeground && pkg.equals(packageName);
    }

    /** HostEmulationManager.getForegroundServiceAndNameOrDefault: who gets unclaimed frames. */
    synchronized ServiceRecord preferredOrDefault() {
        if (preferredService != null && services.containsKey(preferredService)) {
            return services.get(preferredService);
        }
        String payment = defaultServices.get(CardEmulation.CATEGORY_PAYMENT);
        return payment == null ? null : services.get(payment);
    }

    /** CardEmulation's registerPollingLoop(Pattern)FilterForService, for this app's services. */
    boolean registerPollingFilter(ComponentName component, String value, boolean pattern,
                                  boolean autoTransact) {
        ServiceRecord record = service(component.flattenToString());
        if (record == null || !record.component.getPackageName().equals(packageName)) {
            return false;
        }
        synchronized (record) {
            (pattern ? record.pollingPatterns : record.pollingFilters)
                    .put(value.toUpperCase(java.util.Locale.ROOT), autoTransact);
        }
        return true;
    }

    /**
     * True for any service of this app, whether or not the filter was there
     * (A16 RegisteredServicesCache.java:1257-1285: unknown service or another
     * app's, false; otherwise removed, if present, and true).
     */
    boolean removePollingFilter(ComponentName component, String value, boolean pattern) {
        ServiceRecord record = service(component.flattenToString());
        if (record == null || !record.component.getPackageName().equals(packageName)) {
            return false;
        }
        synchronized (record) {
            (pattern ? record.pollingPatterns : record.pollingFilters)
                    .remove(value.toUpperCase(java.util.Locale.ROOT));
        }
        return true;
    }

    boolean setShouldDefaultToObserveMode(ComponentName component, boolean enable) {
        ServiceRecord record = service(component.flattenToString());
        if (record == null || !record.component.getPackageName().equals(packageName)) {
            return false;
        }
        boolean changed;
        synchronized (record) {
            changed = record.shouldDefaultToObserveMode != enable;
            record.shouldDefaultToObserveMode = enable;
        }
        if (changed) {
            updateForShouldDefaultToObserveMode();  // only on a change (A16 CardEmulationManager :841-850)
        }
        return true;
    }

    // -- processes and services (AOSP ActivityManager, as far as HCE needs it) ----------

    private synchronized void startProcess(String pkg, String process) {
        if (processes.add(pkg + process)) {
            processStarts.add(pkg + process);
        }
    }

    /** Whether *pkg*'s *process* ("" = main) is running. */
    public synchronized boolean isProcessRunning(String pkg, String process) {
        return processes.contains(pkg + process);
    }

    /**
     * The app is closed: its main process is gone, with the services that ran
     * in it. Services in their own processes are unaffected. (Statics in the
     * shim cannot be reset in one JVM; a closed app is one whose card is not attached.)
     * Bound clients hear {@code onServiceDisconnected}, as AOSP HostEmulationManager's
     * connection expects (Android 14 HostEmulationManager.java:644-651).
     */
    public void closeApp() {
        kill(false);
    }

    /**
     * Test rig: the user force-stops the app, or it is updated. Every process
     * of the package dies, and ActivityManager declares each binding to its
     * services dead (frameworks/base ActiveServices.bringDownServiceLocked): a
     * connected client hears {@code onServiceDisconnected}, then every client
     * {@code onBindingDied} (LoadedApk.ServiceDispatcher.doConnected), and the
     * binding never connects again: the client must unbind and bind anew.
     */
    public void forceStopApp() {
        kill(true);
    }

    private void kill(boolean wholePackage) {
        List<ServiceRecord> dying = new ArrayList<>();
        synchronized (this) {
            processes.removeIf(p -> p.equals(packageName) || wholePackage && p.startsWith(packageName + ":"));
            for (ServiceRecord record : services.values()) {
                if (record.component.getPackageName().equals(packageName)
                        && (wholePackage || record.process.isEmpty())) {
                    dying.add(record);
                }
            }
        }
        for (ServiceRecord record : dying) {
            List<ServiceConnection> bound;
            synchronized (record) {
                bound = new ArrayList<>(record.connections);
            }
            destroy(record);
            for (ServiceConnection conn : bound) {
                Looper caller;
                synchronized (this) {
                    caller = callerLoopers.get(conn);
                }
                Runnable gone = () -> {
                    conn.onServiceDisconnected(record.component);
                    if (wholePackage) {
                        conn.onBindingDied(record.component);
                    }
                };
                if (caller != null) {
                    new Handler(caller).post(gone);
                } else {
                    gone.run();
                }
            }
        }
    }

    /** Every process start so far, as "package" + "process". */
    public synchronized List<String> processStarts() {
        return new ArrayList<>(processStarts);
    }

    public NfcStack nfc() {
        synchronized (this) {
            if (nfc == null) {
                nfc = new NfcStack(this);
            }
            return nfc;
        }
    }

    /** Create the service instance if needed (its process first); on the main thread. */
    private Service ensureCreated(ServiceRecord record) {
        synchronized (record) {
            if (record.controller != null) {
                return record.controller.get();
            }
        }
        startProcess(record.component.getPackageName(), record.process);
        Class<? extends Service> type;
        try {
            type = Class.forName(record.component.getClassName()).asSubclass(Service.class);
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("cannot instantiate " + record.component, e);
        }
        Intent intent = new Intent().setComponent(record.component);
        ServiceController<? extends Service> controller = Robolectric.buildService(type, intent);
        synchronized (record) {
            record.controller = controller;
            record.creations++;
        }
        controller.create();
        return controller.get();
    }

    private void destroyIfUnused(ServiceRecord record) {
        boolean unused;
        synchronized (record) {
            unused = record.controller != null && !record.started && record.connections.isEmpty();
        }
        if (unused) {
            destroy(record);
        }
    }

    private void destroy(ServiceRecord record) {
        ServiceController<? extends Service> gone;
        synchronized (record) {
            gone = record.controller;
            record.controller = null;
            record.started = false;
            record.connections.clear();
        }
        if (gone != null) {
            onMainThread(() -> {
                gone.destroy();
                return null;
            });
        }
    }

    private static Handler mainHandler() {
        return new Handler(Looper.getMainLooper());
    }

    /** ActivityManager's startService: create the service if needed, then onStartCommand. */
    public ComponentName startService(Intent intent) {
        ComponentName component = intent.getComponent();
        ServiceRecord record = component == null ? null : service(component.flattenToString());
        if (record == null) {
            return null;  // Android: no such service (an implicit intent throws on API 21+)
        }
        synchronized (record) {
            record.startIntents.add(intent);
        }
        mainHandler().post(() -> {
            Service service = ensureCreated(record);
            int startId;
            synchronized (record) {
                record.started = true;
                startId = record.startIntents.size();
            }
            service.onStartCommand(intent, 0, startId);
        });
        return component;
    }

    /** Service.stopSelf for the service class *className* of this app. */
    public void stopService(String className) {
        ServiceRecord record = service(new ComponentName(packageName, className).flattenToString());
        if (record == null) {
            return;
        }
        mainHandler().post(() -> {
            synchronized (record) {
                record.started = false;
            }
            destroyIfUnused(record);
        });
    }

    /**
     * Bind (the NFC service binding an HCE service): on the app's main thread
     * create it if needed and call onBind (AOSP ActivityThread.handleBindService);
     * then call *conn* on the binder's looper (the caller's, if it has one).
     */
    public boolean bindService(Intent intent, ServiceConnection conn) {
        ComponentName component = intent.getComponent();
        ServiceRecord record = component == null ? null : service(component.flattenToString());
        if (record == null) {
            return false;
        }
        Looper caller = Looper.myLooper();
        synchronized (this) {
            bindings.put(conn, record);
            if (caller != null) {
                callerLoopers.put(conn, caller);
            }
        }
        mainHandler().post(() -> {
            Service service = ensureCreated(record);
            IBinder binder = service.onBind(intent);
            synchronized (record) {
                record.connections.add(conn);
            }
            Runnable connected = () -> conn.onServiceConnected(record.component, binder);
            if (caller != null) {
                new Handler(caller).post(connected);
            } else {
                connected.run();
            }
        });
        return true;
    }

    public void unbindService(ServiceConnection conn) {
        ServiceRecord record;
        synchronized (this) {
            record = bindings.remove(conn);
            callerLoopers.remove(conn);
        }
        if (record == null) {
            throw new IllegalArgumentException("Service not registered: " + conn);
        }
        mainHandler().post(() -> {
            boolean last;
            Service service;
            synchronized (record) {
                record.connections.remove(conn);
                last = record.connections.isEmpty();
                service = record.controller == null ? null : record.controller.get();
            }
            if (last && service != null) {
                service.onUnbind(new Intent().setComponent(record.component));
            }
            destroyIfUnused(record);
        });
    }

    /** Tests: the bridge, as the HCE service in this JVM sees it (one shared copy). */
    public static Class<?> bridgeClass() {
        return HcekitBridge.class;
    }
}
