package org.hcekit.desktop;

import android.nfc.cardemulation.HostApduService;
import android.util.Log;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/** Reads the services of an AndroidManifest.xml into the {@link Phone}'s registry. */
final class ManifestReader {
    static final String TAG = "RegisteredServicesCache";
    static final String BIND_NFC_SERVICE = "android.permission.BIND_NFC_SERVICE";
    static final String NFC = "android.permission.NFC";

    private ManifestReader() {}

    static int install(Phone phone, String manifestXml, String xmlName, String aidXml) {
        Element root;
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            Document doc = factory.newDocumentBuilder().parse(
                    new ByteArrayInputStream(manifestXml.getBytes(StandardCharsets.UTF_8)));
            root = doc.getDocumentElement();
        } catch (Exception e) {
            throw new IllegalArgumentException("unreadable manifest: " + e, e);
        }
        boolean holdsNfc = false;
        for (Element permission : children(root, "uses-permission")) {
            holdsNfc |= NFC.equals(attr(permission, "name"));
        }
        int accepted = 0;
        for (Element application : children(root, "application")) {
            for (Element service : children(application, "service")) {
                accepted += installService(phone, service, holdsNfc, xmlName, aidXml) ? 1 : 0;
            }
        }
        return accepted;
    }

    private static boolean installService(Phone phone, Element service, boolean holdsNfc,
                                          String xmlName, String aidXml) {
        String name = attr(service, "name");
        String className = name.startsWith(".") ? phone.packageName + name : name;
        String process = attr(service, "process");
        process = process == null ? "" : process;
        boolean hce = false;
        for (Element filter : children(service, "intent-filter")) {
            for (Element action : children(filter, "action")) {
                hce |= HostApduService.SERVICE_INTERFACE.equals(attr(action, "name"));
            }
        }
        Map<String, Object> metaData = new LinkedHashMap<>();
        String resource = null;
        for (Element meta : children(service, "meta-data")) {
            String key = attr(meta, "name");
            if (HostApduService.SERVICE_META_DATA.equals(key)) {
                resource = attr(meta, "resource");
            } else if (key != null) {
                String value = attr(meta, "value");
                metaData.put(key, value != null && value.matches("-?\\d+")
                        ? (Object) Integer.valueOf(value) : value);
            }
        }
        if (!hce) {
            phone.installPlainService(className, process);
            return false;
        }
        if (!"true".equals(attr(service, "exported"))) {
            Log.e(TAG, "Skipping application component " + className + ": it must configured as exported");
            return false;
        }
        if (!holdsNfc) {
            Log.e(TAG, "Skipping application component " + className + ": it must request the permission " + NFC);
            return false;
        }
        if (!BIND_NFC_SERVICE.equals(attr(service, "permission"))) {
            Log.e(TAG, "Skipping APDU service " + className + ": it does not require the permission "
                    + BIND_NFC_SERVICE);
            return false;
        }
        if (resource == null || !resource.equals("@xml/" + xmlName)) {
            Log.w(TAG, "Unable to load component info " + className + ": no " + HostApduService.SERVICE_META_DATA
                    + " meta-data for @xml/" + xmlName);
            return false;
        }
        phone.installService(phone.packageName, className, aidXml, process, metaData);
        return true;
    }

    private static Iterable<Element> children(Element parent, String tag) {
        java.util.List<Element> found = new java.util.ArrayList<>();
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            Node node = nodes.item(i);
            if (node instanceof Element) {
                Element element = (Element) node;
                String local = element.getLocalName() != null ? element.getLocalName() : element.getTagName();
                if (tag.equals(local)) {
                    found.add(element);
                }
            }
        }
        return found;
    }

    private static String attr(Element e, String name) {
        return e.hasAttributeNS(AidXml.ANDROID_NS, name) ? e.getAttributeNS(AidXml.ANDROID_NS, name) : null;
    }
}
