package android.content.pm;

import android.content.ComponentName;
import org.hcekit.desktop.Phone;
import org.hcekit.desktop.ServiceRecord;

/** Desktop stand-in (abstract on Android): features and installed services come from {@link Phone}. */
public class PackageManager {
    public static final String FEATURE_NFC = "android.hardware.nfc";
    public static final String FEATURE_NFC_HOST_CARD_EMULATION = "android.hardware.nfc.hce";
    public static final int GET_META_DATA = 0x00000080;

    /** Android's checked exception for an unknown package or component. */
    public static class NameNotFoundException extends Exception {
        private static final long serialVersionUID = 1L;

        public NameNotFoundException(String name) {
            super(name);
        }
    }

    public boolean hasSystemFeature(String name) {
        return Phone.get().features.contains(name);
    }

    /** The manifest's declaration of *component* (meta-data only with GET_META_DATA). */
    public ServiceInfo getServiceInfo(ComponentName component, int flags) throws NameNotFoundException {
        ServiceRecord record = Phone.get().service(component.flattenToString());
        if (record == null) {
            throw new NameNotFoundException(component.flattenToString());
        }
        ServiceInfo info = new ServiceInfo();
        info.name = component.getClassName();
        info.packageName = component.getPackageName();
        info.processName = component.getPackageName() + record.process;
        info.metaData = (flags & GET_META_DATA) != 0 ? record.metaData() : null;
        return info;
    }
}
