package org.hcekit.desktop;

import android.content.ComponentName;
import android.nfc.NfcAdapter;
import android.nfc.cardemulation.CardEmulation;
import android.os.Binder;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;

/**
 * The NFC service's side of {@code CardEmulation}: an {@code INfcCardEmulation}
 * (the hidden AIDL interface the real {@code android.nfc.cardemulation.CardEmulation}
 * calls) answered by the {@link Phone}'s registry, as AOSP's
 * {@code CardEmulationManager.CardEmulationInterface} answers it on a phone.
 *
 * <p>It is a dynamic proxy because the interface's methods change from one API
 * level to the next; each method is recognised by name and its arguments by
 * type. Methods the model does not know answer false/null/0 and are logged.
 * Installed in {@code NfcAdapter.sCardEmulationService}, where the real
 * {@code CardEmulation.getInstance} looks for the service.
 */
final class CardEmulationService implements InvocationHandler {
    private final Phone phone;

    private CardEmulationService(Phone phone) {
        this.phone = phone;
    }

    /** Point the real framework at *phone*'s NFC service. */
    static void install(Phone phone) {
        try {
            Class<?> type = Class.forName("android.nfc.INfcCardEmulation");
            Object service = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                    new CardEmulationService(phone));
            Field field = NfcAdapter.class.getDeclaredField("sCardEmulationService");
            field.setAccessible(true);
            field.set(null, service);
            clearCardEmulationCache();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("this android-all has no INfcCardEmulation seam: " + e, e);
        }
    }

    /** CardEmulation caches one instance per context (sCardEmus): a reset phone starts afresh. */
    private static void clearCardEmulationCache() throws ReflectiveOperationException {
        Field cache = CardEmulation.class.getDeclaredField("sCardEmus");
        cache.setAccessible(true);
        ((java.util.Map<?, ?>) cache.get(null)).clear();
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        Object[] a = args == null ? new Object[0] : args;
        ComponentName component = find(a, ComponentName.class);
        switch (method.getName()) {
            case "asBinder":
                return new Binder();
            case "registerAidGroupForService": {
                if (phone.registrationThrows) {
                    throw new SecurityException("registration refused by the test phone");
                }
                Object group = findAidGroup(a);
                String category = (String) group.getClass().getMethod("getCategory").invoke(group);
                @SuppressWarnings("unchecked")
                List<String> aids = (List<String>) group.getClass().getMethod("getAids").invoke(group);
                return phone.registrationSucceeds
                        && phone.registerAidGroup(component, category, new ArrayList<>(aids));
            }
            case "removeAidGroupForService":
                return phone.removeAidGroup(component, lastString(a));
            case "getAidGroupForService": {
                String category = lastString(a);
                List<String> aids = phone.dynamicAids(component, category);
                return aids == null ? null : newAidGroup(aids, category);
            }
            case "isDefaultServiceForCategory":
                return phone.isDefaultServiceForCategory(component, lastString(a));
            case "isDefaultServiceForAid":
                // A16 CardEmulationManager.java:799-807 (registered services only), then
                // RegisteredAidCache.isDefaultServiceForAid (:272-287): who the AID resolves to
                return phone.service(component.flattenToString()) != null
                        && phone.nfc().isDefaultServiceForAid(component, lastString(a));
            case "isDefaultPaymentRegistered":
                return phone.isDefaultPaymentRegistered();
            case "getPreferredPaymentService":
                return serviceInfo(phone.preferredOrDefault());
            case "supportsAidPrefixRegistration":
                return phone.prefixRouting;
            case "setPreferredService": {
                String before = phone.getPreferredService();
                boolean set = PreferredServices.register(phone, component);
                if (set && !component.flattenToString().equals(before)) {
                    phone.nfc().onPreferredForegroundServiceChanged(component);
                }
                return set;
            }
            case "unsetPreferredService":
                return PreferredServices.unsetFromApp(phone);
            case "registerPollingLoopFilterForService":
                return phone.registerPollingFilter(component, secondString(a), false, lastBoolean(a));
            case "registerPollingLoopPatternFilterForService":
                return phone.registerPollingFilter(component, secondString(a), true, lastBoolean(a));
            case "removePollingLoopFilterForService":
                return phone.removePollingFilter(component, lastString(a), false);
            case "removePollingLoopPatternFilterForService":
                return phone.removePollingFilter(component, lastString(a), true);
            case "setShouldDefaultToObserveModeForService":
                return phone.setShouldDefaultToObserveMode(component, lastBoolean(a));
            default:
                android.util.Log.w("CardEmulationManager", "not modelled: INfcCardEmulation."
                        + method.getName());
                return defaultValue(method.getReturnType());
        }
    }

    /**
     * The ApduServiceInfo CardEmulation reads the preferred payment service's
     * AIDs, route and description from (A16 CardEmulationManager.java:1140-1146:
     * the service RegisteredAidCache.getPreferredService names, :1453-1468, the
     * foreground-preferred one else the default payment one); null for none. A
     * host service: the model has no secure element.
     */
    private static Object serviceInfo(ServiceRecord record) throws ReflectiveOperationException {
        if (record == null) {
            return null;
        }
        android.content.pm.ServiceInfo service = new android.content.pm.ServiceInfo();
        service.packageName = record.component.getPackageName();
        service.name = record.component.getClassName();
        service.applicationInfo = new android.content.pm.ApplicationInfo();
        service.applicationInfo.packageName = service.packageName;
        android.content.pm.ResolveInfo resolve = new android.content.pm.ResolveInfo();
        resolve.serviceInfo = service;
        ArrayList<Object> staticGroups = new ArrayList<>();
        ArrayList<Object> dynamicGroups = new ArrayList<>();
        synchronized (record) {
            for (java.util.Map.Entry<String, List<String>> group : record.staticGroups.entrySet()) {
                staticGroups.add(newAidGroup(new ArrayList<>(group.getValue()), group.getKey()));
            }
            for (java.util.Map.Entry<String, List<String>> group : record.dynamicGroups.entrySet()) {
                dynamicGroups.add(newAidGroup(new ArrayList<>(group.getValue()), group.getKey()));
            }
        }
        Class<?> type = Class.forName("android.nfc.cardemulation.ApduServiceInfo");
        for (java.lang.reflect.Constructor<?> constructor : type.getConstructors()) {
            Class<?>[] p = constructor.getParameterTypes();
            // (resolveInfo, onHost, description, static, dynamic, requiresUnlock, banner, uid,
            //  settingsActivity, offHost, staticOffHost): the same at API 34, 35 and 36
            if (p.length == 11 && p[5] == boolean.class && p[6] == int.class) {
                return constructor.newInstance(resolve, true, record.description, staticGroups,
                        dynamicGroups, record.requiresUnlock, 0, 0, null, null, null);
            }
        }
        throw new IllegalStateException("this android-all has no known ApduServiceInfo constructor");
    }

    private static <T> T find(Object[] args, Class<T> type) {
        for (Object arg : args) {
            if (type.isInstance(arg)) {
                return type.cast(arg);
            }
        }
        return null;
    }

    private static Object findAidGroup(Object[] args) {
        for (Object arg : args) {
            if (arg != null && arg.getClass().getSimpleName().equals("AidGroup")) {
                return arg;
            }
        }
        throw new IllegalArgumentException("registerAidGroupForService without an AidGroup");
    }

    private static String lastString(Object[] args) {
        String found = null;
        for (Object arg : args) {
            if (arg instanceof String) {
                found = (String) arg;
            }
        }
        return found;
    }

    /** The filter argument: the first String after the ComponentName (a package name may precede it). */
    private static String secondString(Object[] args) {
        boolean afterComponent = false;
        for (Object arg : args) {
            if (arg instanceof ComponentName) {
                afterComponent = true;
            } else if (afterComponent && arg instanceof String) {
                return (String) arg;
            }
        }
        return lastString(args);
    }

    private static boolean lastBoolean(Object[] args) {
        boolean found = false;
        for (Object arg : args) {
            if (arg instanceof Boolean) {
                found = (Boolean) arg;
            }
        }
        return found;
    }

    private static Object newAidGroup(List<String> aids, String category) throws ReflectiveOperationException {
        Class<?> type = Class.forName("android.nfc.cardemulation.AidGroup");
        return type.getConstructor(List.class, String.class).newInstance(aids, category);
    }

    private static Object defaultValue(Class<?> type) {
        if (type == boolean.class) {
            return false;
        }
        if (type == int.class) {
            return 0;
        }
        if (type == long.class) {
            return 0L;
        }
        return null;
    }
}
