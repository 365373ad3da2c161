package android.nfc.cardemulation;

import android.app.Activity;
import android.content.ComponentName;
import android.nfc.NfcAdapter;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.hcekit.desktop.Phone;

/**
 * Desktop stand-in with Android's constants and the methods hcekit calls.
 * Like Android, registerAidsForService throws IllegalArgumentException for an
 * invalid AID or more than 256 of them; the outcome otherwise comes from {@link Phone}.
 */
public final class CardEmulation {
    public static final String ACTION_CHANGE_DEFAULT =
            "android.nfc.cardemulation.action.ACTION_CHANGE_DEFAULT";
    public static final String EXTRA_CATEGORY = "category";
    public static final String EXTRA_SERVICE_COMPONENT = "component";
    public static final String CATEGORY_PAYMENT = "payment";
    public static final String CATEGORY_OTHER = "other";

    private static final Pattern AID = Pattern.compile("[0-9A-Fa-f]{10,32}\\*?\\#?");

    private CardEmulation() {}

    public static synchronized CardEmulation getInstance(NfcAdapter adapter) {
        if (adapter == null) {
            throw new NullPointerException("NfcAdapter is null");
        }
        if (!Phone.get().features.contains("android.hardware.nfc.hce")) {
            throw new UnsupportedOperationException("this device does not support card emulation");
        }
        return new CardEmulation();
    }

    public boolean isDefaultServiceForCategory(ComponentName service, String category) {
        return service.flattenToString().equals(Phone.get().defaultServices.get(category));
    }

    public boolean categoryAllowsForegroundPreference(String category) {
        return CATEGORY_OTHER.equals(category) || Phone.get().paymentAllowsForegroundPreference;
    }

    public boolean registerAidsForService(ComponentName service, String category, List<String> aids) {
        Phone phone = Phone.get();
        if (aids.size() > 256) {
            throw new IllegalArgumentException("Too many AIDs in AID group.");
        }
        for (String aid : aids) {
            if (!isValidAid(aid)) {
                throw new IllegalArgumentException("AID " + aid + " is not a valid AID.");
            }
        }
        if (phone.registrationThrows) {
            throw new SecurityException("simulated: NFC service refused the registration");
        }
        if (!phone.registrationSucceeds) {
            return false;
        }
        phone.dynamicAids.put(service.flattenToString() + "|" + category, new ArrayList<>(aids));
        return true;
    }

    public boolean removeAidsForService(ComponentName service, String category) {
        return Phone.get().dynamicAids.remove(service.flattenToString() + "|" + category) != null;
    }

    public List<String> getAidsForService(ComponentName service, String category) {
        return Phone.get().dynamicAids.get(service.flattenToString() + "|" + category);
    }

    public boolean setPreferredService(Activity activity, ComponentName service) {
        if (activity == null || service == null) {
            throw new NullPointerException("activity or service or category is null");
        }
        Phone.get().preferredService = service.flattenToString();
        return true;
    }

    public boolean unsetPreferredService(Activity activity) {
        if (activity == null) {
            throw new NullPointerException("activity is null");
        }
        Phone.get().preferredService = null;
        return true;
    }

    private static boolean isValidAid(String aid) {
        if (aid == null) {
            return false;
        }
        boolean marked = aid.endsWith("*") || aid.endsWith("#");
        if (marked && aid.length() % 2 == 0) {
            return false;
        }
        if (!marked && aid.length() % 2 != 0) {
            return false;
        }
        return AID.matcher(aid).matches();
    }
}
