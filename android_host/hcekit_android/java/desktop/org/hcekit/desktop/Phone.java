package org.hcekit.desktop;

import android.app.Service;
import android.content.ComponentName;
import android.content.Intent;
import android.content.ServiceConnection;
import android.nfc.cardemulation.CardEmulation;
import android.os.Handler;
import android.os.IBinder;
import android.os.Looper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The simulated phone behind the desktop stand-ins: its features and NFC
 * switch, the controller's AID routing abilities, the lock screen, the
 * default payment service, the installed HCE services with their AID groups
 * (the NFC service's registry), and the apps' processes, each with its own
 * main thread ({@link Looper}) on which its services are created, bound and
 * called. Tests set it; the stand-ins and {@link NfcStack} read it.
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
    /** The controller routes prefix AIDs (AOSP AidRoutingManager.supportsAidPrefixRouting). */
    public boolean prefixRouting = false;
    /** The controller routes subset AIDs (supportsAidSubsetRouting; no public API reports it). */
    public boolean subsetRouting = false;
    /** The keyguard is showing. */
    public boolean locked = false;
    public String preferredService;
    public final List<Intent> startedActivities = new ArrayList<>();

    private final Map<String, ServiceRecord> services = new LinkedHashMap<>();
    private final Map<String, Looper> processes = new HashMap<>();
    private final Map<ServiceConnection, ServiceRecord> bindings = new HashMap<>();
    private final List<String> processStarts = new ArrayList<>();
    private NfcStack nfc;

    private Phone() {
        features.add("android.hardware.nfc");
        features.add("android.hardware.nfc.hce");
    }

    public static synchronized Phone get() {
        return current;
    }

    /**
     * A fresh phone: NFC with HCE, switched on, no prefix routing, unlocked,
     * no defaults, no services installed, the app's main process running.
     */
    public static synchronized Phone reset() {
        current.shutdown();
        current = new Phone();
        current.mainLooper();
        return current;
    }

    private void shutdown() {
        NfcStack stack;
        List<Looper> loopers;
        synchronized (this) {
            stack = nfc;
            nfc = null;
            loopers = new ArrayList<>(processes.values());
            processes.clear();
        }
        if (stack != null) {
            stack.shutdown();
        }
        for (Looper looper : loopers) {
            looper.quit();
        }
    }

    // -- device settings (tests) -------------------------------------------------------

    public void setFeature(String name, boolean present) {
        if (present) {
            features.add(name);
        } else {
            features.remove(name);
        }
    }

    public void setNfcEnabled(boolean enabled) { nfcEnabled = enabled; }

    public void setPrefixRouting(boolean supported) { prefixRouting = supported; }

    public void setSubsetRouting(boolean supported) { subsetRouting = supported; }

    public void setLocked(boolean isLocked) { locked = isLocked; }

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

    public String getPreferredService() { return preferredService; }

    public int startedActivityCount() { return startedActivities.size(); }

    public Intent lastStartedActivity() {
        return startedActivities.isEmpty() ? null : startedActivities.get(startedActivities.size() - 1);
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
    public synchronized ServiceRecord installService(String pkg, String className, String aidXml,
                                                     String process) {
        return installService(pkg, className, aidXml, process, null);
    }

    synchronized ServiceRecord installService(String pkg, String className, String aidXml,
                                              String process, Map<String, Object> metaData) {
        AidXml info = AidXml.parse(aidXml != null ? aidXml
                : "<host-apdu-service xmlns:android=\"" + AidXml.ANDROID_NS
                  + "\" android:description=\"" + className + "\"/>");
        ServiceRecord record = new ServiceRecord(new ComponentName(pkg, className), info.description,
                info.requiresUnlock, info.hasBanner, process);
        record.staticGroups.putAll(info.groups);
        if (metaData != null) {
            record.metaData.putAll(metaData);
        }
        services.put(record.component.flattenToString(), record);
        return record;
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
    public synchronized ServiceRecord installPlainService(String className, String process) {
        ServiceRecord record = new ServiceRecord(new ComponentName(packageName, className), className,
                false, false, process);
        services.put(record.component.flattenToString(), record);
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
        synchronized (record) {
            record.dynamicGroups.put(category, new ArrayList<>(aids));
        }
        return true;
    }

    public boolean removeAidGroup(ComponentName component, String category) {
        ServiceRecord record = service(component.flattenToString());
        if (record == null || !record.component.getPackageName().equals(packageName)) {
            return false;
        }
        synchronized (record) {
            return record.dynamicGroups.remove(category) != null;
        }
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

    // -- processes and services (AOSP ActivityManager, as far as HCE needs it) ----------

    /** The main looper of this app's main process (started if it is not running). */
    public Looper mainLooper() {
        return looper(packageName, "");
    }

    /** Whether *pkg*'s *process* ("" = main) is running. */
    public synchronized boolean isProcessRunning(String pkg, String process) {
        return processes.containsKey(pkg + process);
    }

    /**
     * The app is closed: its main process (activity) is not running. Services in
     * their own processes are unaffected. (Statics in the shim cannot be reset in
     * one JVM; a closed app is one whose card is not attached.)
     */
    public void closeApp() {
        Looper main;
        synchronized (this) {
            main = processes.remove(packageName);
        }
        if (main != null) {
            main.quit();
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

    Looper looper(String pkg, String process) {
        String key = pkg + process;
        synchronized (this) {
            Looper existing = processes.get(key);
            if (existing != null) {
                return existing;
            }
            Looper started = startLooper((process.isEmpty() ? "main" : "main" + process) + "@" + pkg,
                    pkg.equals(packageName) && process.isEmpty());
            processes.put(key, started);
            processStarts.add(key);
            return started;
        }
    }

    static Looper startLooper(String name, boolean main) {
        CountDownLatch ready = new CountDownLatch(1);
        AtomicReference<Looper> looper = new AtomicReference<>();
        Thread thread = new Thread(() -> {
            if (main) {
                Looper.prepareMainLooper();
            } else {
                Looper.prepare();
            }
            looper.set(Looper.myLooper());
            ready.countDown();
            Looper.loop();
        }, name);
        thread.setDaemon(true);
        thread.start();
        try {
            if (!ready.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("looper thread " + name + " did not start");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return looper.get();
    }

    private Handler handlerFor(ServiceRecord record) {
        return new Handler(looper(record.component.getPackageName(), record.process));
    }

    /** Create the service instance if needed; on the record's main thread. */
    private Service ensureCreated(ServiceRecord record) {
        Service created;
        synchronized (record) {
            if (record.instance != null) {
                return record.instance;
            }
            try {
                created = (Service) Class.forName(record.component.getClassName())
                        .getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot instantiate " + record.component, e);
            }
            record.instance = created;
            record.creations++;
        }
        created.onCreate();
        return created;
    }

    private void destroyIfUnused(ServiceRecord record) {
        Service gone = null;
        synchronized (record) {
            if (record.instance != null && !record.started && record.connections.isEmpty()) {
                gone = record.instance;
                record.instance = null;
            }
        }
        if (gone != null) {
            gone.onDestroy();
        }
    }

    public ComponentName startService(Intent intent) {
        return start(intent, false);
    }

    public ComponentName startForegroundService(Intent intent) {
        return start(intent, true);
    }

    private ComponentName start(Intent intent, boolean foreground) {
        ComponentName component = intent.getComponent();
        ServiceRecord record = component == null ? null : service(component.flattenToString());
        if (record == null) {
            return null;  // Android: no such service (an implicit intent throws on API 21+)
        }
        synchronized (record) {
            record.startIntents.add(intent);
        }
        handlerFor(record).post(() -> {
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
        handlerFor(record).post(() -> {
            synchronized (record) {
                record.started = false;
            }
            destroyIfUnused(record);
        });
    }

    /**
     * Bind: on the service's main thread create it if needed and call onBind;
     * then call *conn* on the binder's looper (the caller's, if it has one).
     */
    public boolean bindService(Intent intent, ServiceConnection conn, int flags) {
        ComponentName component = intent.getComponent();
        ServiceRecord record = component == null ? null : service(component.flattenToString());
        if (record == null) {
            return false;
        }
        Looper caller = Looper.myLooper();
        synchronized (this) {
            bindings.put(conn, record);
        }
        handlerFor(record).post(() -> {
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
        }
        if (record == null) {
            throw new IllegalArgumentException("Service not registered: " + conn);
        }
        handlerFor(record).post(() -> {
            boolean last;
            Service service;
            synchronized (record) {
                record.connections.remove(conn);
                last = record.connections.isEmpty();
                service = record.instance;
            }
            if (last && service != null) {
                service.onUnbind(null);
            }
            destroyIfUnused(record);
        });
    }
}
