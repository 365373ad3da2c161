package android.nfc.cardemulation;

import android.app.Activity;
import android.content.ComponentName;
import android.nfc.NfcAdapter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.hcekit.desktop.Phone;
import org.hcekit.desktop.ServiceRecord;

/**
 * Desktop stand-in with AOSP's constants, signatures and rules, backed by the
 * NFC service registry in {@link Phone}:
 * <ul>
 *   <li>{@code registerAidsForService} builds an AidGroup first, which throws
 *       IllegalArgumentException for no AIDs, more than 256, or an invalid
 *       one; it returns false for a service that is not installed (or not
 *       this app's); otherwise the group replaces the service's dynamic group
 *       of that category, and with it the static group of that category.</li>
 *   <li>{@code removeAidsForService}: false when there is no dynamic group.</li>
 *   <li>{@code isDefaultServiceForCategory}: only "payment" has defaults.</li>
 *   <li>{@code supportsAidPrefixRegistration}: what the controller supports.</li>
 * </ul>
 */
public final class CardEmulation {
    public static final String ACTION_CHANGE_DEFAULT =
            "android.nfc.cardemulation.action.ACTION_CHANGE_DEFAULT";
    public static final String EXTRA_CATEGORY = "category";
    public static final String EXTRA_SERVICE_COMPONENT = "component";
    public static final String CATEGORY_PAYMENT = "payment";
    public static final String CATEGORY_OTHER = "other";
    public static final int SELECTION_MODE_PREFER_DEFAULT = 0;
    public static final int SELECTION_MODE_ALWAYS_ASK = 1;
    public static final int SELECTION_MODE_ASK_IF_CONFLICT = 2;

    /** AidGroup.MAX_NUM_AIDS. */
    static final int MAX_NUM_AIDS = 256;
    private static final Pattern AID_PATTERN = Pattern.compile("[0-9A-Fa-f]{10,32}\\*?\\#?");

    private CardEmulation() {}

    public static synchronized CardEmulation getInstance(NfcAdapter adapter) {
        if (adapter == null) {
            throw new NullPointerException("NfcAdapter is null");
        }
        if (!Phone.get().features.contains("android.hardware.nfc.hce")) {
            throw new UnsupportedOperationException();
        }
        return new CardEmulation();
    }

    public boolean isDefaultServiceForCategory(ComponentName service, String category) {
        Phone phone = Phone.get();
        if (phone.service(service.flattenToString()) == null || !CATEGORY_PAYMENT.equals(category)) {
            return false;
        }
        return service.flattenToString().equals(phone.defaultServices.get(category));
    }

    public boolean categoryAllowsForegroundPreference(String category) {
        return !CATEGORY_PAYMENT.equals(category) || Phone.get().paymentAllowsForegroundPreference;
    }

    public int getSelectionModeForCategory(String category) {
        if (CATEGORY_PAYMENT.equals(category)) {
            return Phone.get().defaultServices.containsKey(CATEGORY_PAYMENT)
                    ? SELECTION_MODE_PREFER_DEFAULT : SELECTION_MODE_ALWAYS_ASK;
        }
        return SELECTION_MODE_ASK_IF_CONFLICT;
    }

    public boolean registerAidsForService(ComponentName service, String category, List<String> aids) {
        // new AidGroup(aids, category): checked on the caller's side, throwing
        if (aids == null || aids.isEmpty()) {
            throw new IllegalArgumentException("No AIDS in AID group.");
        }
        if (aids.size() > MAX_NUM_AIDS) {
            throw new IllegalArgumentException("Too many AIDs in AID group.");
        }
        List<String> upper = new ArrayList<>();
        for (String aid : aids) {
            if (!isValidAid(aid)) {
                throw new IllegalArgumentException("AID " + aid + " is not a valid AID.");
            }
            upper.add(aid.toUpperCase(Locale.ROOT));
        }
        String groupCategory = CATEGORY_PAYMENT.equals(category) ? CATEGORY_PAYMENT : CATEGORY_OTHER;
        Phone phone = Phone.get();
        if (phone.registrationThrows) {
            throw new SecurityException("simulated: NFC service refused the registration");
        }
        if (!phone.registrationSucceeds) {
            return false;
        }
        return phone.registerAidGroup(service, groupCategory, upper);
    }

    public boolean removeAidsForService(ComponentName service, String category) {
        return Phone.get().removeAidGroup(service, category);
    }

    public List<String> getAidsForService(ComponentName service, String category) {
        return Phone.get().dynamicAids(service, category);
    }

    public boolean supportsAidPrefixRegistration() {
        return Phone.get().prefixRouting;
    }

    public boolean setPreferredService(Activity activity, ComponentName service) {
        if (activity == null || service == null) {
            throw new NullPointerException("activity or service or category is null");
        }
        if (!activity.isResumed()) {
            throw new IllegalArgumentException("Activity must be resumed.");
        }
        ServiceRecord record = Phone.get().service(service.flattenToString());
        if (record == null) {
            return false;
        }
        Phone.get().preferredService = service.flattenToString();
        return true;
    }

    public boolean unsetPreferredService(Activity activity) {
        if (activity == null) {
            throw new NullPointerException("activity is null");
        }
        if (!activity.isResumed()) {
            throw new IllegalArgumentException("Activity must be resumed.");
        }
        Phone.get().preferredService = null;
        return true;
    }

    /** AOSP's rule (hidden API): 5–16 bytes of hex, "*" or "#" appended for prefix/subset. */
    public static boolean isValidAid(String aid) {
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
        return AID_PATTERN.matcher(aid).matches();
    }
}
