package android.content.pm;

import org.hcekit.desktop.Phone;

/** Desktop stand-in (abstract on Android): features come from {@link Phone}. */
public class PackageManager {
    public static final String FEATURE_NFC = "android.hardware.nfc";
    public static final String FEATURE_NFC_HOST_CARD_EMULATION = "android.hardware.nfc.hce";

    public boolean hasSystemFeature(String name) {
        return Phone.get().features.contains(name);
    }
}
