package org.hcekit.desktop;

import android.nfc.cardemulation.CardEmulation;
import android.util.Log;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * Reads a host-apdu-service XML the lenient way Android does (AOSP
 * {@code ApduServiceInfo}'s parser), independently of hcekit's strict Python
 * reader: an unknown category is "other"; a second "payment" group is
 * ignored; further "other" groups merge into the first; invalid or duplicate
 * AIDs and empty groups are dropped with a log line. A service without any
 * aid-group is valid (dynamic AIDs only).
 */
public final class AidXml {
    static final String ANDROID_NS = "http://schemas.android.com/apk/res/android";
    static final String TAG = "ApduServiceInfo";

    public final String description;
    public final boolean requiresUnlock;
    /** requireDeviceScreenOn, default true (frameworks/base ApduServiceInfo, API 34+). */
    public final boolean requiresScreenOn;
    public final boolean hasBanner;
    public final Map<String, List<String>> groups = new LinkedHashMap<>();
    /** Polling-loop filters (API 35, ApduServiceInfo): exact frame hex / pattern → autoTransact. */
    public final Map<String, Boolean> pollingFilters = new LinkedHashMap<>();
    public final Map<String, Boolean> pollingPatterns = new LinkedHashMap<>();
    public boolean shouldDefaultToObserveMode;
    /** {@code android:wantsRoleHolderPriority} (Android 16; read by the NFC module, not by older releases). */
    public boolean wantsRoleHolderPriority;

    private AidXml(String description, boolean requiresUnlock, boolean requiresScreenOn,
                   boolean hasBanner) {
        this.description = description;
        this.requiresUnlock = requiresUnlock;
        this.requiresScreenOn = requiresScreenOn;
        this.hasBanner = hasBanner;
    }

    /** Parse *xml*; IllegalArgumentException where Android would skip the whole service. */
    public static AidXml parse(String xml) {
        Document doc;
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(true);
            doc = factory.newDocumentBuilder().parse(
                    new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalArgumentException("unreadable meta-data XML: " + e, e);
        }
        Element root = doc.getDocumentElement();
        if (!"host-apdu-service".equals(root.getLocalName() != null ? root.getLocalName() : root.getTagName())) {
            throw new IllegalArgumentException("Meta-data does not start with <host-apdu-service> tag");
        }
        AidXml info = new AidXml(attr(root, "description"),
                "true".equals(attr(root, "requireDeviceUnlock")),
                !"false".equals(attr(root, "requireDeviceScreenOn")),
                attr(root, "apduServiceBanner") != null);
        NodeList children = root.getChildNodes();
        for (int i = 0; i < children.getLength(); i++) {
            Node node = children.item(i);
            if (node instanceof Element && "aid-group".equals(name((Element) node))) {
                info.readGroup((Element) node);
            } else if (node instanceof Element && "polling-loop-filter".equals(name((Element) node))) {
                info.pollingFilters.put(attr((Element) node, "name").toUpperCase(Locale.ROOT),
                        "true".equals(attr((Element) node, "autoTransact")));
            } else if (node instanceof Element
                    && "polling-loop-pattern-filter".equals(name((Element) node))) {
                info.pollingPatterns.put(attr((Element) node, "name").toUpperCase(Locale.ROOT),
                        "true".equals(attr((Element) node, "autoTransact")));
            }
        }
        info.shouldDefaultToObserveMode = "true".equals(attr(root, "shouldDefaultToObserveMode"));
        info.wantsRoleHolderPriority = "true".equals(attr(root, "wantsRoleHolderPriority"));
        return info;
    }

    private void readGroup(Element group) {
        String category = attr(group, "category");
        if (!CardEmulation.CATEGORY_PAYMENT.equals(category)) {
            category = CardEmulation.CATEGORY_OTHER;
        }
        List<String> target = groups.get(category);
        if (target != null && CardEmulation.CATEGORY_PAYMENT.equals(category)) {
            Log.e(TAG, "Not allowing multiple aid-groups in the payment category");
            return;
        }
        List<String> aids = target != null ? target : new ArrayList<>();
        NodeList filters = group.getChildNodes();
        for (int i = 0; i < filters.getLength(); i++) {
            if (!(filters.item(i) instanceof Element)) {
                continue;
            }
            Element filter = (Element) filters.item(i);
            String suffix;
            switch (name(filter)) {
                case "aid-filter": suffix = ""; break;
                case "aid-prefix-filter": suffix = "*"; break;
                case "aid-suffix-filter": suffix = "#"; break;
                default: continue;
            }
            String raw = attr(filter, "name");
            String aid = (raw == null ? "" : raw.toUpperCase(Locale.ROOT)) + suffix;
            if (CardEmulation.isValidAid(aid) && !aids.contains(aid)) {
                aids.add(aid);
            } else {
                Log.e(TAG, "Ignoring invalid or duplicate aid: " + aid);
            }
        }
        if (target == null) {
            if (aids.isEmpty()) {
                Log.e(TAG, "Not adding <aid-group> with empty or invalid AIDs");
            } else {
                groups.put(category, aids);
            }
        }
    }

    private static String name(Element e) {
        return e.getLocalName() != null ? e.getLocalName() : e.getTagName();
    }

    private static String attr(Element e, String name) {
        return e.hasAttributeNS(ANDROID_NS, name) ? e.getAttributeNS(ANDROID_NS, name) : null;
    }
}
