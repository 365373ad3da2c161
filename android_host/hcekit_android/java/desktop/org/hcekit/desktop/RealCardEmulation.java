package org.hcekit.desktop;

import android.nfc.cardemulation.CardEmulation;
import org.robolectric.annotation.Implements;

/**
 * Replaces Robolectric's ShadowCardEmulation with nothing: every method of the
 * real {@code CardEmulation} runs and reaches the NFC service through
 * {@code INfcCardEmulation} ({@link CardEmulationService}), so the default and
 * preferred services are the model's decisions, not a shadow's.
 */
@Implements(CardEmulation.class)
public class RealCardEmulation {}
