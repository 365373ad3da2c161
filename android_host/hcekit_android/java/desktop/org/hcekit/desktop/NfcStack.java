package org.hcekit.desktop;

import android.content.ComponentName;
import android.content.Intent;
import android.content.ServiceConnection;
import android.nfc.cardemulation.CardEmulation;
import android.nfc.cardemulation.HostApduService;
import android.os.Handler;
import android.os.HandlerThread;
import android.os.IBinder;
import android.os.Looper;
import android.os.Message;
import android.os.Messenger;
import android.os.RemoteException;
import android.util.Log;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Android's NFC service for host card emulation, on its own thread ("nfc"
 * looper), plus the reader on the other side of the RF link.
 *
 * <p>Modelled on AOSP {@code HostEmulationManager} and {@code RegisteredAidCache}:
 * <ul>
 *   <li>A SELECT by AID (CLA 00, INS A4, P1 04, at least 5 AID bytes) is
 *       resolved against every installed service's routed AID groups; an AID
 *       nobody routes gets 6A82 from the NFC service itself. A non-SELECT
 *       before any service was chosen gets 6F00.</li>
 *   <li>The chosen service is bound (BIND_AUTO_CREATE: its process and the
 *       service are created on its main thread); the SELECT is held until the
 *       binding connects, and commands meanwhile are dropped.</li>
 *   <li>Every later APDU goes to the selected service unchanged; a SELECT that
 *       resolves to another service sends DEACTIVATION_DESELECTED to the
 *       previous one first.</li>
 *   <li>Answers come back as messages; one from a service that is not the
 *       active one, an empty one, or one outside a transfer is dropped. There
 *       is no timeout: a service that never answers leaves the reader waiting.</li>
 *   <li>Field loss sends DEACTIVATION_LINK_LOSS to the active service and unbinds.</li>
 *   <li>Resolution: the foreground-preferred service wins; payment AIDs route
 *       only to the default payment service; otherwise one service wins alone,
 *       and two or more "other" services make Android ask the user (the
 *       model records it and ignores APDUs until the field drops). A service
 *       with requireDeviceUnlock on a locked phone gets nothing: 6A82.</li>
 *   <li>Prefix ({@code *}) and subset ({@code #}) AIDs route only where the
 *       controller supports them ({@link Phone#prefixRouting}, {@link Phone#subsetRouting});
 *       elsewhere they are ignored, as AOSP does, silently for the app.</li>
 * </ul>
 * The reader waits for each answer, so one command is outstanding at a time;
 * an answer with no command outstanding cannot be sent over ISO-DEP and is
 * counted instead ({@link #unsolicitedResponses()}).
 */
public final class NfcStack {
    static final String TAG = "HostEmulationManager";
    static final byte[] AID_NOT_FOUND = {0x6A, (byte) 0x82};
    static final byte[] UNKNOWN_ERROR = {0x6F, 0x00};
    static final String ANDROID_HCE_AID = "A000000476416E64726F6964484345";
    /** HostApduService.MSG_RESPONSE_APDU_ACK where this framework has it and traces answers (API 36). */
    static final Integer RESPONSE_ACK = responseAck();

    private static Integer responseAck() {
        try {
            boolean enabled = (Boolean) Class.forName("android.nfc.Flags")
                    .getMethod("nfcHceLatencyEvents").invoke(null);
            return enabled ? HostApduService.class.getField("MSG_RESPONSE_APDU_ACK").getInt(null) : null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;  // an older framework: no acknowledgement in its protocol
        }
    }

    /** What the reader's outstanding command gets when the NFC service drops the link. */
    static final byte[] LINK_LOST = new byte[0];
    static final byte[] ANDROID_HCE_RESPONSE = {0x14, (byte) 0x81, 0x00, 0x00, (byte) 0x90, 0x00};

    enum State { IDLE, W4_SELECT, W4_SERVICE, W4_DEACTIVATE, XFER }

    private final Phone phone;
    private final Looper looper;
    private final Handler handler;
    private final Messenger messenger;

    // nfc-thread state
    private State state = State.IDLE;
    private Messenger activeService;
    private ComponentName activeName;
    private Messenger boundService;
    // the default payment service, bound for as long as it is the default (HostEmulationManager
    // bindPaymentServiceLocked), not per tap
    private Messenger paymentService;
    private ComponentName paymentName;
    private ServiceConnection paymentConnection;
    private ComponentName boundName;
    private ServiceConnection connection;
    private byte[] heldSelect;
    private final java.util.Set<IBinder> dead = new java.util.HashSet<>();

    // reader side
    private final Object readerLock = new Object();
    private ArrayBlockingQueue<byte[]> outstanding;
    private ArrayBlockingQueue<byte[]> lastSubmitted;

    private final AtomicInteger unsolicited = new AtomicInteger();
    private final AtomicInteger droppedResponses = new AtomicInteger();
    private final AtomicInteger droppedCommands = new AtomicInteger();
    private final AtomicInteger conflicts = new AtomicInteger();
    private final AtomicInteger unlockRequests = new AtomicInteger();
    private final AtomicInteger binds = new AtomicInteger();
    private final AtomicInteger linkLosses = new AtomicInteger();
    private final AtomicInteger observedCommands = new AtomicInteger();
    private final AtomicInteger framesDelivered = new AtomicInteger();
    // observe mode (API 35+): frames held until their service is bound; observe mode to be
    // turned on again when the tap an autoTransact allowed ends
    private final List<Object> heldFrames = new ArrayList<>();
    private ComponentName heldFramesFor;
    // the reader's plain frames (A, B, field on/off) wait until the loop looks complete, then
    // go to the preferred service in one call (A16 HostEmulationManager.java:230-236, :586-590,
    // :672-674, :681-733)
    private enum LoopState { EVALUATING, FILTER_MATCHED, DELIVERING_TO_PREFERRED }
    private LoopState loopState = LoopState.EVALUATING;
    private List<Object> pendingLoopFrames;
    // once frames wait for a binding, later frames wait unsorted and are sorted when it
    // completes (A16 mUnprocessedPollingFrames, :536, :592-593, :1685-1691)
    private List<Object> unprocessedLoopFrames;
    // observe-mode timers (A16 HostEmulationManager): read and set under observeLock, as A16
    // does under mLock, because the preferred service's default arrives from other threads
    private final Object observeLock = new Object();
    private boolean enableObserveModeAfterTransaction;
    private AutoDisableObserveMode autoDisableObserveMode;
    // ISO-DEP is up (A16 isHostCardEmulationActivated, :1083-1087: neither idle nor only polling)
    private volatile boolean hceActivated;
    /**
     * How long after an autoTransact tap ends observe mode comes back (A16
     * HostEmulationManager.java:123, posted at :1061-1064).
     */
    static final long RE_ENABLE_OBSERVE_MODE_DELAY_MS = 2000;
    /**
     * How long after frames reach a service that is not in the foreground observe
     * mode is switched off, if still on (A16 HostEmulationManager.java:546-552,
     * flag auto_disable_observe_mode).
     */
    static final long AUTO_DISABLE_OBSERVE_MODE_DELAY_MS = 3000;
    private final Runnable enableObserveModeAfterTransactionRunnable =
            this::enableObserveModeAfterTransaction;
    private final AtomicInteger screenOffRefusals = new AtomicInteger();
    /**
     * How long after the field goes (or a polling loop ends on an OFF frame) the
     * NFC service forgets the tap, unless an activation, data or more frames come
     * first (A16 HostEmulationManager.java:122, :240-248, :555-561).
     */
    static final long FIELD_OFF_IDLE_DELAY_MS = 2000;
    private final Runnable returnToIdle = this::returnToIdle;

    NfcStack(Phone phone) {
        this.phone = phone;
        HandlerThread thread = new HandlerThread("nfc");
        thread.setDaemon(true);
        thread.start();
        this.looper = thread.getLooper();
        this.handler = new Handler(looper);
        this.messenger = new Messenger(new ResponseHandler(looper));
    }

    // -- the reader ------------------------------------------------------------------------

    /** Send *command*; the answer, or null if none came within *timeoutMillis*. */
    public byte[] transceive(byte[] command, long timeoutMillis) throws InterruptedException {
        submit(command);
        return awaitAnswer(timeoutMillis);
    }

    /** Send *command* without waiting (see {@link #awaitAnswer}); activates the field if needed. */
    public void submit(byte[] command) {
        ArrayBlockingQueue<byte[]> answer = new ArrayBlockingQueue<>(1);
        synchronized (readerLock) {
            outstanding = answer;
            lastSubmitted = answer;
        }
        final byte[] copy = command.clone();
        handler.post(() -> {
            if (state != State.XFER && phone.observeModeEnabled()) {
                // the controller observes: it does not answer the reader's polls, nothing
                // activates, and the reader hears no card (A16 HostEmulationManager observe mode)
                observedCommands.incrementAndGet();
                synchronized (readerLock) {
                    if (outstanding != null) {
                        outstanding.add(LINK_LOST);
                        outstanding = null;
                    }
                }
                return;
            }
            // an activation and every APDU cancel the return to idle (A16 :796, :835), and
            // every APDU a pending return to observe mode (:834)
            handler.removeCallbacks(returnToIdle);
            handler.removeCallbacks(enableObserveModeAfterTransactionRunnable);
            hceActivated = true;
            if (state == State.IDLE) {
                state = State.W4_SELECT;  // onHostEmulationActivated: ISO-DEP is up
            }
            onHostEmulationData(copy);
        });
    }

    /** The answer to the last submitted command, or null after *timeoutMillis* (the reader gives up). */
    public byte[] awaitAnswer(long timeoutMillis) throws InterruptedException {
        ArrayBlockingQueue<byte[]> answer;
        synchronized (readerLock) {
            answer = lastSubmitted;
        }
        if (answer == null) {
            throw new IllegalStateException("no command submitted");
        }
        byte[] result = answer.poll(timeoutMillis, TimeUnit.MILLISECONDS);
        if (result == LINK_LOST) {
            return null;  // the NFC service dropped the link (routingChanged)
        }
        if (result == null) {
            synchronized (readerLock) {
                if (outstanding == answer) {
                    outstanding = null;
                }
            }
        }
        return result;
    }

    /** Whether the answer to the last submitted command has arrived (without taking it). */
    public boolean answerReady() {
        synchronized (readerLock) {
            return lastSubmitted != null && lastSubmitted.peek() != null;
        }
    }

    /**
     * The controller reports the reader's field on or off without an ISO-DEP
     * (de)activation: in observe mode nothing was activated, or the field
     * flickered. Off: the tap is forgotten {@link #FIELD_OFF_IDLE_DELAY_MS}
     * later unless the reader comes back first (A16 onFieldChangeDetected,
     * HostEmulationManager.java:774-778). Waits for the NFC thread.
     */
    public void fieldChange(boolean on) throws InterruptedException {
        if (phone.apiLevel < Phone.OBSERVE_MODE_API) {
            Log.i(TAG, "no field events below API " + Phone.OBSERVE_MODE_API);
            return;
        }
        handler.post(() -> {
            handler.removeCallbacks(returnToIdle);
            if (!on) {
                handler.postDelayed(returnToIdle, FIELD_OFF_IDLE_DELAY_MS);
            }
        });
        barrier(looper);  // the app's main thread may be held (Phone.holdMainThread)
    }

    /**
     * Tests: let *millis* pass on Robolectric's clock (the NFC thread's delayed
     * work, such as the return to idle, runs when due); waits for the NFC thread only.
     */
    public void advanceClock(long millis) throws InterruptedException {
        barrier(looper);
        org.robolectric.shadows.ShadowSystemClock.advanceBy(java.time.Duration.ofMillis(millis));
        barrier(looper);  // not the main thread: a test may hold it
    }

    /** The reader leaves: field off (DEACTIVATION_LINK_LOSS to the active service). Waits for it. */
    public void fieldOff() throws InterruptedException {
        synchronized (readerLock) {
            outstanding = null;
        }
        handler.post(this::onHostEmulationDeactivated);
        drain();
    }

    /**
     * Compatibility helper: reason 0 is {@link #fieldOff()}; 1 (DESELECTED) has the
     * reader select {@link OtherAppService}'s AID, which Android routes to
     * another app (installed on demand); any other value is delivered raw to
     * the active service (a reason a future Android might add).
     */
    public void deactivate(int reason) throws InterruptedException {
        if (reason == HostApduService.DEACTIVATION_LINK_LOSS) {
            fieldOff();
            return;
        }
        if (reason == HostApduService.DEACTIVATION_DESELECTED) {
            if (phone.service(new ComponentName(OtherAppService.PACKAGE,
                    OtherAppService.class.getName()).flattenToString()) == null) {
                phone.installOtherApp();
            }
            byte[] aid = hex(OtherAppService.AID);
            byte[] select = new byte[5 + aid.length];
            select[1] = (byte) 0xA4;
            select[2] = 0x04;
            select[4] = (byte) aid.length;
            System.arraycopy(aid, 0, select, 5, aid.length);
            transceive(select, 5000);
            drain();
            return;
        }
        handler.post(() -> sendDeactivate(reason));
        drain();
    }

    /** Wait until the NFC thread and the app's main thread have run what was posted so far. */
    public void drain() throws InterruptedException {
        for (int round = 0; round < 3; round++) {
            barrier(looper);
            barrier(Looper.getMainLooper());
        }
    }

    private static void barrier(Looper target) throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        if (new Handler(target).post(done::countDown) && !done.await(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("looper " + target.getThread().getName() + " is stuck");
        }
    }

    /**
     * Benchmark: *count* round trips of *command*, each timed from the reader's
     * hand-off to the NFC thread until the answer is back; nanoseconds, in order.
     */
    public long[] roundTrips(byte[] command, int count, long timeoutMillis) throws InterruptedException {
        long[] times = new long[count];
        for (int i = 0; i < count; i++) {
            long start = System.nanoTime();
            byte[] answer = transceive(command, timeoutMillis);
            times[i] = System.nanoTime() - start;
            if (answer == null) {
                throw new IllegalStateException("no answer within " + timeoutMillis + " ms");
            }
        }
        return times;
    }

    public int unsolicitedResponses() { return unsolicited.get(); }

    /** Answers the NFC service dropped (inactive service, empty, or outside a transfer). */
    public int droppedResponses() { return droppedResponses.get(); }

    /** Commands the NFC service dropped (while binding, or while the user is asked). */
    public int droppedCommands() { return droppedCommands.get(); }

    /** SELECTs that several services claim with no default: Android asks the user. */
    public int conflicts() { return conflicts.get(); }

    /** SELECTs refused because the service requires an unlocked phone. */
    public int unlockRequests() { return unlockRequests.get(); }

    /** Bindings the NFC service made. */
    public int binds() { return binds.get(); }

    /** Commands no card answered because the controller was observing (API 35+). */
    public int observedCommands() { return observedCommands.get(); }

    /** Polling frames the NFC service delivered to a service (MSG_POLLING_LOOP). */
    public int framesDelivered() { return framesDelivered.get(); }

    /**
     * The reader's polling loop before activation (Android 15+): *count* frames
     * encoded as the shim's bridge carries them (type, triggered, gain,
     * timestamp, length, data). Routed as A16 HostEmulationManager
     * onPollingLoopDetected (:570-735) does: a custom (UNKNOWN) frame that a
     * service's polling-loop filter matches goes to that service, which is bound
     * for it, and an autoTransact filter lets one transaction through
     * (allowOneTransaction, :736-741: observe mode off until the tap ends); other
     * custom frames and type-F frames go to the preferred service, else the
     * default one, at once; the plain A, B, ON and OFF frames are held until the
     * loop looks complete and then go there in one call, or, with no such
     * service, observe mode goes off for the tap (:681-733). Below API 35 the
     * controller reports no polling loop: nothing happens.
     */
    public void poll(int count, byte[] encoded) throws InterruptedException {
        if (phone.apiLevel < Phone.OBSERVE_MODE_API) {
            Log.i(TAG, "no polling loop below API " + Phone.OBSERVE_MODE_API);
            return;
        }
        List<Object> frames = PollingFrameCodec.decode(count, encoded);
        handler.post(() -> onPollingLoopDetected(frames));
        drain();
    }

    /**
     * {@link #poll} waiting only for the NFC thread, not for the app's main thread
     * (which a test may hold, so that a binding stays pending).
     */
    public void pollNoWait(int count, byte[] encoded) throws InterruptedException {
        if (phone.apiLevel < Phone.OBSERVE_MODE_API) {
            Log.i(TAG, "no polling loop below API " + Phone.OBSERVE_MODE_API);
            return;
        }
        List<Object> frames = PollingFrameCodec.decode(count, encoded);
        handler.post(() -> onPollingLoopDetected(frames));
        barrier(looper);
    }

    private void onPollingLoopDetected(List<Object> frames) {
        handler.removeCallbacks(returnToIdle);
        if (!frames.isEmpty()
                && PollingFrameCodec.type(frames.get(frames.size() - 1)) == PollingFrameCodec.TYPE_OFF) {
            // the loop ended with the field going off: forget the tap unless the reader
            // comes back in time (A16 HostEmulationManager.java:574-579)
            handler.postDelayed(returnToIdle, FIELD_OFF_IDLE_DELAY_MS);
        }
        if (state == State.IDLE) {
            state = State.W4_SELECT;  // STATE_POLLING_LOOP (A16 :581-583)
        }
        if (pendingLoopFrames == null) {
            pendingLoopFrames = new ArrayList<>();
        }
        for (Object frame : frames) {
            int type = PollingFrameCodec.type(frame);
            if (unprocessedLoopFrames != null) {
                unprocessedLoopFrames.add(frame);  // a binding is pending (A16 :592-593)
            } else if (type == PollingFrameCodec.TYPE_F) {
                // type F goes to the preferred service (else the default) at once (A16 :594-601)
                ServiceRecord preferred = phone.preferredOrDefault();
                if (preferred != null) {
                    sendFrames(preferred, java.util.Collections.singletonList(frame));
                }
            } else if (type == PollingFrameCodec.TYPE_UNKNOWN) {
                String hex = PollingFrameCodec.hex(frame);
                List<ServiceRecord> matching = new ArrayList<>();
                for (ServiceRecord record : phone.services()) {
                    if (record.matchPollingFrame(hex) != null) {
                        matching.add(record);
                    }
                }
                // several services match: RegisteredAidCache decides, else the first (A16 :621-631)
                ServiceRecord match = matching.size() > 1 ? resolvePollingConflict(matching)
                        : matching.isEmpty() ? null : matching.get(0);
                if (match != null) {
                    if (match.matchPollingFrame(hex)) {
                        allowOneTransaction();
                        PollingFrameCodec.setTriggeredAutoTransact(frame);
                    }
                    // a filter matched: plain frames of this tap are no longer passed on (A16 :656)
                    loopState = LoopState.FILTER_MATCHED;
                    sendFrames(match, java.util.Collections.singletonList(frame));
                } else {
                    // a custom frame no filter claims goes to the preferred service at once (A16 :660-666)
                    ServiceRecord preferred = phone.preferredOrDefault();
                    if (preferred != null) {
                        sendFrames(preferred, java.util.Collections.singletonList(frame));
                    }
                }
            } else {
                pendingLoopFrames.add(frame);  // A, B, field on/off: held (A16 :672-674)
            }
        }
        if (loopState == LoopState.EVALUATING && pendingLoopFrames.size() >= 3
                && loopLooksComplete(pendingLoopFrames)) {
            loopState = LoopState.DELIVERING_TO_PREFERRED;
        }
        if (loopState == LoopState.DELIVERING_TO_PREFERRED) {
            ServiceRecord preferred = phone.preferredOrDefault();
            if (preferred != null) {
                // everything held so far in one call, even none (A16 :720-726)
                List<Object> held = pendingLoopFrames;
                pendingLoopFrames = null;
                sendFrames(preferred, held);
            } else {
                // frames to pass on and nobody to take them: observe mode off for this tap
                // (A16 :727-731); the held frames stay held
                Log.i(TAG, "no preferred service for the polling loop, allowing a transaction");
                allowOneTransaction();
            }
        }
    }

    /**
     * The held frames look like a whole polling loop: more than 3 type-A polls,
     * or more than 3 type-B polls, or an OFF frame that brings both ON and OFF
     * to at least 2, counted in arrival order (A16 HostEmulationManager.java:681-718).
     */
    private static boolean loopLooksComplete(List<Object> held) {
        int on = 0;
        int off = 0;
        int a = 0;
        int b = 0;
        for (Object frame : held) {
            int type = PollingFrameCodec.type(frame);
            if (type == PollingFrameCodec.TYPE_A) {
                if (++a > 3) {
                    return true;
                }
            } else if (type == PollingFrameCodec.TYPE_B) {
                if (++b > 3) {
                    return true;
                }
            } else if (type == PollingFrameCodec.TYPE_ON) {
                on++;
            } else if (type == PollingFrameCodec.TYPE_OFF) {
                if (++off >= 2 && on >= 2) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * A16 RegisteredAidCache.resolvePollingLoopFilterConflict (:294-325): the
     * service preferred in the foreground; else, with the wallet role, the role
     * holder's services (and those sharing its priority), first by component
     * name; without it, the default payment service; else the first that matched.
     */
    private ServiceRecord resolvePollingConflict(List<ServiceRecord> matching) {
        String foreground = phone.getPreferredService();
        List<ServiceRecord> holders = new ArrayList<>();
        ServiceRecord payment = null;
        String defaultPayment;
        synchronized (phone) {
            defaultPayment = phone.defaultServices.get(CardEmulation.CATEGORY_PAYMENT);
        }
        boolean walletRole = phone.apiLevel >= Phone.WALLET_ROLE_API;
        for (ServiceRecord record : matching) {
            String name = record.component.flattenToString();
            if (name.equals(foreground)) {
                return record;
            } else if (walletRole) {
                if (phone.sharesRoleHolderPriority(record)) {
                    holders.add(record);
                }
            } else if (name.equals(defaultPayment)) {
                payment = record;
            }
        }
        if (!holders.isEmpty()) {
            holders.sort((a, b) -> String.CASE_INSENSITIVE_ORDER.compare(
                    a.component.toShortString(), b.component.toShortString()));
            return holders.get(0);
        }
        return payment != null ? payment : matching.get(0);
    }

    /** ISO-DEP is up (A16 isHostCardEmulationActivated, :1083-1087). */
    boolean hostCardEmulationActivated() {
        return hceActivated;
    }

    /** Observe mode off until the tap ends (A16 allowOneTransaction, :736-741). */
    private void allowOneTransaction() {
        synchronized (observeLock) {
            enableObserveModeAfterTransaction = true;
        }
        setObserveMode(false);
    }

    /**
     * The NFC service switches observe mode; switching it off drops a pending
     * auto-disable (A16 NfcService.onObserveModeStateChanged, :939-948, to
     * HostEmulationManager.onObserveModeStateChange, :452-458). An app's own
     * NfcAdapter.setObserveModeEnabled goes to Robolectric's shadow and does
     * not come here; the auto-disable checks observe mode when it runs.
     */
    private void setObserveMode(boolean enabled) {
        phone.setObserveModeEnabled(enabled);
        if (!enabled) {
            synchronized (observeLock) {
                if (autoDisableObserveMode != null) {
                    handler.removeCallbacks(autoDisableObserveMode);
                    autoDisableObserveMode = null;
                }
            }
        }
    }

    /**
     * The preferred service's shouldDefaultToObserveMode applies (A16
     * HostEmulationManager.updateForShouldDefaultToObserveMode, :402-421): during
     * a tap it only decides whether observe mode comes back when the tap ends;
     * with observe mode's return pending, a default of on lets the pending return
     * do it and a default of off cancels it; otherwise observe mode becomes the
     * default at once.
     */
    void updateForShouldDefaultToObserveMode(boolean enabled) {
        synchronized (observeLock) {
            if (hceActivated) {
                enableObserveModeAfterTransaction = enabled;
                return;
            }
            if (handler.hasCallbacks(enableObserveModeAfterTransactionRunnable)) {
                if (enabled) {
                    return;
                }
                handler.removeCallbacks(enableObserveModeAfterTransactionRunnable);
            }
            enableObserveModeAfterTransaction = false;
        }
        setObserveMode(enabled);
    }

    /** The delayed return to observe mode after an autoTransact tap (A16 :292-313). */
    private void enableObserveModeAfterTransaction() {
        synchronized (observeLock) {
            if (!enableObserveModeAfterTransaction) {
                return;
            }
            enableObserveModeAfterTransaction = false;
        }
        setObserveMode(true);
    }

    /**
     * Switches observe mode off {@link #AUTO_DISABLE_OBSERVE_MODE_DELAY_MS} after
     * frames first reached a service, unless observe mode is already off or an
     * app whose service got frames meanwhile is in the foreground: a wallet that
     * keeps observing from the background must not block taps (A16
     * AutoDisableObserveModeRunnable, HostEmulationManager.java:461-524).
     */
    private final class AutoDisableObserveMode implements Runnable {
        private final java.util.Set<String> packages = new java.util.HashSet<>();

        @Override
        public void run() {
            synchronized (observeLock) {
                if (!phone.observeModeEnabled()) {
                    return;
                }
                for (String pkg : packages) {
                    if (phone.packageInForeground(pkg)) {
                        return;  // the runnable stays set: no new timer until it is cleared (A16 :546-552)
                    }
                }
                Log.w(TAG, "observe mode still on and none of " + packages + " in the foreground");
                allowOneTransaction();
            }
        }
    }

    /** Frames went to *service*: start, or add to, the auto-disable timer (A16 :546-552). */
    private void scheduleAutoDisable(ComponentName service) {
        synchronized (observeLock) {
            if (autoDisableObserveMode == null) {
                autoDisableObserveMode = new AutoDisableObserveMode();
                autoDisableObserveMode.packages.add(service.getPackageName());
                handler.postDelayed(autoDisableObserveMode, AUTO_DISABLE_OBSERVE_MODE_DELAY_MS);
            } else {
                autoDisableObserveMode.packages.add(service.getPackageName());
            }
        }
    }

    /** Bind *record* if needed and send it MSG_POLLING_LOOP (A16 sendPollingFramesToServiceLocked, :1262-1300). */
    private void sendFrames(ServiceRecord record, List<Object> frames) {
        if (state == State.IDLE) {
            state = State.W4_SELECT;  // STATE_POLLING_LOOP: the field is there, nothing selected
        }
        Messenger service = bindIfNeeded(record);
        if (service == null) {
            heldFrames.addAll(frames);
            heldFramesFor = record.component;
            unprocessedLoopFrames = new ArrayList<>();  // A16 :536
        } else {
            deliverFrames(service, record.component, frames);
        }
        scheduleAutoDisable(record.component);  // delivered or held alike (A16 :531-553)
    }

    private void deliverFrames(Messenger service, ComponentName name, List<Object> frames) {
        if (!service.equals(activeService)) {
            sendDeactivate(HostApduService.DEACTIVATION_DESELECTED);
            activeService = service;
            activeName = name;
        }
        Message msg = Message.obtain(null, PollingFrameCodec.MSG_POLLING_LOOP);
        msg.getData().putParcelableArrayList(PollingFrameCodec.KEY_FRAMES,
                PollingFrameCodec.parcelables(frames));
        msg.replyTo = messenger;
        try {
            service.send(msg);
            framesDelivered.addAndGet(frames.size());
        } catch (RemoteException e) {
            Log.e(TAG, "Remote service " + name + " has died, dropping frames");
            allowOneTransaction();
        }
    }

    /** Taps ended by the NFC service itself (a routing-table commit restarts RF discovery). */
    public int linkLosses() { return linkLosses.get(); }

    /** SELECTs refused because the screen was off and the service requires it on. */
    public int screenOffRefusals() { return screenOffRefusals.get(); }

    /**
     * The routing table changed (an app registered or removed AIDs). AOSP
     * commits it to the controller with RF discovery stopped
     * (nci/jni/NativeNfcManager.cpp:988-996, "Update routing table only in Idle
     * state"): a tap in progress loses its link. The reader's outstanding
     * command gets no answer.
     */
    void routingChanged() {
        handler.post(() -> {
            if (state == State.IDLE) {
                return;
            }
            linkLosses.incrementAndGet();
            Log.i(TAG, "routing table committed: RF discovery restarted, the tap is lost");
            synchronized (readerLock) {
                if (outstanding != null) {
                    outstanding.add(LINK_LOST);
                    outstanding = null;
                }
            }
            onHostEmulationDeactivated();
        });
    }

    /**
     * The default payment service changed (HostEmulationManager
     * onPreferredPaymentServiceChanged, A14 HostEmulationManager.java:138-146):
     * bind the new one now and keep it bound across taps; null unbinds.
     */
    void paymentServiceChanged(ComponentName service) {
        handler.post(() -> bindPayment(service));
    }

    /** Unbind the payment binding, then bind *service* and keep it (A16 bindPaymentServiceLocked, :1336-1372). */
    private void bindPayment(ComponentName service) {
        if (paymentConnection != null) {
            phone.unbindService(paymentConnection);
        }
        paymentConnection = null;
        paymentService = null;
        paymentName = null;
        if (service == null || phone.service(service.flattenToString()) == null) {
            return;
        }
        ServiceConnection conn = new PaymentConnection();
        paymentConnection = conn;
        binds.incrementAndGet();
        Intent intent = new Intent(HostApduService.SERVICE_INTERFACE).setComponent(service);
        if (!phone.bindService(intent, conn)) {
            Log.e(TAG, "Could not bind (persistent) payment service.");
            paymentConnection = null;
        }
    }

    private final class PaymentConnection implements ServiceConnection {
        @Override
        public void onServiceConnected(ComponentName component, IBinder binder) {
            if (paymentConnection == this) {
                paymentService = new Messenger(binder);
                paymentName = component;
            }
        }

        @Override
        public void onServiceDisconnected(ComponentName component) {
            if (paymentConnection == this) {
                if (paymentService != null) {
                    dead.add(paymentService.getBinder());
                }
                paymentService = null;
                paymentName = null;
            }
        }

        /**
         * The binding is dead for good (the app was force-stopped or updated):
         * bind the payment service again at once (A16 HostEmulationManager.java:1597-1606).
         * Android 14's connection has no onBindingDied: the service stays unbound
         * until a tap binds it (bindServiceIfNeededLocked).
         */
        @Override
        public void onBindingDied(ComponentName component) {
            if (paymentConnection == this && phone.apiLevel >= Phone.MODULE_API) {
                bindPayment(component);
            }
        }
    }

    public void shutdown() {
        looper.quit();
    }

    // -- HostEmulationManager ------------------------------------------------------------------

    private void sendToReader(byte[] data) {
        ArrayBlockingQueue<byte[]> target;
        synchronized (readerLock) {
            target = outstanding;
            outstanding = null;
        }
        if (target == null) {
            unsolicited.incrementAndGet();
        } else {
            target.add(data.clone());
        }
    }

    private void onHostEmulationData(byte[] data) {
        if (state == State.W4_DEACTIVATE) {
            Log.e(TAG, "Dropping APDU in STATE_W4_DECTIVATE");
            droppedCommands.incrementAndGet();
            return;
        }
        String selectAid = findSelectAid(data);
        ServiceRecord resolved = null;
        if (selectAid != null) {
            if (selectAid.equals(ANDROID_HCE_AID)) {
                sendToReader(ANDROID_HCE_RESPONSE);
                return;
            }
            Resolution resolution = resolve(selectAid);
            if (resolution.conflict && activeName != null && resolution.candidates.contains(activeName)) {
                // no default, but the service already active in this tap claims it: it keeps
                // the tap (A14 HostEmulationManager.java:281-299)
                resolution.service = phone.service(activeName.flattenToString());
                resolution.conflict = false;
            }
            if (resolution.conflict) {
                conflicts.incrementAndGet();
                state = State.W4_DEACTIVATE;
                return;
            }
            if (resolution.service == null) {
                Log.w(TAG, "Can't handle AID " + selectAid + " sending AID_NOT_FOUND");
                sendToReader(AID_NOT_FOUND);
                return;
            }
            // AOSP Android 14 HostEmulationManager.java:248-249: Secure NFC, like
            // requireDeviceUnlock, refuses every host service while the phone is locked.
            if ((resolution.service.requiresUnlock || phone.secureNfc) && phone.locked) {
                unlockRequests.incrementAndGet();
                sendToReader(AID_NOT_FOUND);
                return;
            }
            if (resolution.service.requiresScreenOn && !phone.screenOn) {
                // A14 HostEmulationManager.java:260-266: requireDeviceScreenOn (default true)
                screenOffRefusals.incrementAndGet();
                sendToReader(AID_NOT_FOUND);
                return;
            }
            resolved = resolution.service;
        }
        switch (state) {
            case W4_SELECT:
            case XFER:
                if (resolved != null) {
                    Messenger existing = bindIfNeeded(resolved);
                    if (existing != null) {
                        sendDataToService(existing, resolved.component, data);
                    } else {
                        heldSelect = data;
                        state = State.W4_SERVICE;
                    }
                } else if (state == State.XFER && activeService != null) {
                    sendDataToService(activeService, activeName, data);
                } else if (state == State.W4_SELECT) {
                    Log.d(TAG, "Dropping non-select APDU in STATE_W4_SELECT");
                    sendToReader(UNKNOWN_ERROR);
                } else {
                    droppedCommands.incrementAndGet();
                }
                break;
            case W4_SERVICE:
                Log.d(TAG, "Unexpected APDU in STATE_W4_SERVICE");
                droppedCommands.incrementAndGet();
                break;
            default:
                break;
        }
    }

    /**
     * The preferred (foreground) service changed: bind it at once, or unbind for
     * none (AOSP Android 14 HostEmulationManager.java:185-191). Bound while idle,
     * the connection is not kept (lines 611-614), so the tap binds it again.
     */
    void onPreferredForegroundServiceChanged(ComponentName service) {
        handler.post(() -> {
            ServiceRecord record = service == null ? null : phone.service(service.flattenToString());
            if (record != null) {
                bindIfNeeded(record);
            } else {
                unbindIfNeeded();
            }
        });
    }

    private Messenger bindIfNeeded(ServiceRecord record) {
        if (paymentName != null && paymentName.equals(record.component) && paymentService != null) {
            return paymentService;  // "Service already bound as payment service." (A14 HostEmulationManager.java:412-425)
        }
        if (boundName != null && boundName.equals(record.component)) {
            return boundService;
        }
        unbindIfNeeded();
        final ComponentName name = record.component;
        ServiceConnection conn = new ServiceConnection() {
            @Override
            public void onServiceConnected(ComponentName component, IBinder service) {
                if (connection != this || state == State.IDLE) {
                    return;  // deactivated (or rebound) meanwhile
                }
                boundService = new Messenger(service);
                boundName = name;
                if (!heldFrames.isEmpty() && name.equals(heldFramesFor)) {
                    List<Object> frames = new ArrayList<>(heldFrames);
                    heldFrames.clear();
                    deliverFrames(boundService, boundName, frames);
                    if (unprocessedLoopFrames != null) {
                        // what came meanwhile is sorted now (A16 :1685-1691)
                        List<Object> later = unprocessedLoopFrames;
                        unprocessedLoopFrames = null;
                        onPollingLoopDetected(later);
                    }
                }
                if (heldSelect != null) {
                    byte[] select = heldSelect;
                    heldSelect = null;
                    sendDataToService(boundService, boundName, select);
                }
            }

            @Override
            public void onServiceDisconnected(ComponentName component) {
                // The service's process died: forget it, so the next SELECT binds
                // (and creates) it again (Android 14 HostEmulationManager.java:644-651).
                if (connection == this) {
                    if (boundService != null) {
                        dead.add(boundService.getBinder());
                    }
                    boundService = null;
                    boundName = null;
                }
            }
        };
        connection = conn;
        binds.incrementAndGet();
        Intent intent = new Intent(HostApduService.SERVICE_INTERFACE).setComponent(name);
        if (!phone.bindService(intent, conn)) {
            Log.e(TAG, "Could not bind service " + name);
            connection = null;
        }
        return null;
    }

    private void unbindIfNeeded() {
        if (connection != null) {
            phone.unbindService(connection);
        }
        connection = null;
        boundService = null;
        boundName = null;
    }

    private void sendDataToService(Messenger service, ComponentName name, byte[] data) {
        state = State.XFER;
        if (!service.equals(activeService)) {
            sendDeactivate(HostApduService.DEACTIVATION_DESELECTED);
            activeService = service;
            activeName = name;
        }
        Message msg = Message.obtain(null, HostApduService.MSG_COMMAND_APDU);
        msg.getData().putByteArray(HostApduService.KEY_DATA, data);
        msg.replyTo = messenger;
        try {
            send(activeService, msg);
        } catch (RemoteException e) {
            Log.e(TAG, "Remote service " + activeName + " has died, dropping APDU");
        }
    }

    private void sendDeactivate(int reason) {
        if (activeService == null) {
            return;
        }
        Message msg = Message.obtain(null, HostApduService.MSG_DEACTIVATED);
        msg.arg1 = reason;
        try {
            send(activeService, msg);
        } catch (RemoteException e) {
            // the service is gone; nothing to tell
        }
    }

    /**
     * Binder's send: to a service whose process died it throws (DeadObjectException).
     * In one JVM the dead instance's Messenger would still deliver; this models the death.
     */
    private void send(Messenger service, Message msg) throws RemoteException {
        if (dead.contains(service.getBinder())) {
            throw new RemoteException("the service's process died");
        }
        service.send(msg);
    }

    /**
     * The field has been gone for {@link #FIELD_OFF_IDLE_DELAY_MS}: frames held for
     * a binding or for a complete loop are dropped and the active service forgotten, without telling it
     * (A16 returnToIdleStateLocked, HostEmulationManager.java:1494-1501; it unbinds nothing).
     */
    private void returnToIdle() {
        Log.d(TAG, "Have been outside field, returning to idle state");
        heldFrames.clear();
        heldFramesFor = null;
        pendingLoopFrames = null;
        unprocessedLoopFrames = null;
        loopState = LoopState.EVALUATING;
        activeService = null;
        activeName = null;
        state = State.IDLE;
        hceActivated = false;
    }

    private void onHostEmulationDeactivated() {
        heldFrames.clear();
        hceActivated = false;
        synchronized (observeLock) {
            // the tap is over: no auto-disable (A16 :1056-1059); after an autoTransact tap,
            // observe mode comes back a little later, so that no further SELECT of this
            // tap gets through and a new preferred service may still decide (:1061-1064)
            if (autoDisableObserveMode != null) {
                handler.removeCallbacks(autoDisableObserveMode);
                autoDisableObserveMode = null;
            }
            if (enableObserveModeAfterTransaction) {
                handler.postDelayed(enableObserveModeAfterTransactionRunnable,
                        RE_ENABLE_OBSERVE_MODE_DELAY_MS);
            }
        }
        sendDeactivate(HostApduService.DEACTIVATION_LINK_LOSS);
        activeService = null;
        activeName = null;
        heldSelect = null;
        unbindIfNeeded();
        // the tap is forgotten, held polling frames too (A16 :1054 returnToIdleStateLocked)
        pendingLoopFrames = null;
        unprocessedLoopFrames = null;
        loopState = LoopState.EVALUATING;
        state = State.IDLE;
    }

    private final class ResponseHandler extends Handler {
        ResponseHandler(Looper looper) {
            super(looper);
        }

        /**
         * The NFC service lives in another process: Binder parcels every Message
         * sent to it, so it receives a copy. In one JVM the service's Messenger
         * would hand over the very Message its main thread is still dispatching
         * (HostApduService forwards MSG_RESPONSE_APDU as is), which Android's
         * MessageQueue refuses ("already in use"); copying models the parcel.
         */
        @Override
        public boolean sendMessageAtTime(Message msg, long uptimeMillis) {
            return super.sendMessageAtTime(Message.obtain(msg), uptimeMillis);
        }

        @Override
        public void handleMessage(Message msg) {
            if (activeService == null || msg.replyTo == null
                    || msg.replyTo.getBinder() != activeService.getBinder()) {
                Log.d(TAG, "Dropping service response message; service no longer active.");
                droppedResponses.incrementAndGet();
                return;
            }
            if (msg.what != HostApduService.MSG_RESPONSE_APDU) {
                return;  // MSG_UNHANDLED: Android may show other apps; nothing to model
            }
            byte[] data = msg.peekData() == null ? null
                    : msg.peekData().getByteArray(HostApduService.KEY_DATA);
            if (data == null || data.length == 0) {
                Log.e(TAG, "Dropping empty R-APDU");
                droppedResponses.incrementAndGet();
                return;
            }
            if (state != State.XFER) {
                droppedResponses.incrementAndGet();
                return;
            }
            sendToReader(data);
            acknowledge(msg);
        }

        /**
         * Android 16 with the nfc_hce_latency_events flag: the service traces
         * each answer until the NFC service acknowledges it with
         * MSG_RESPONSE_APDU_ACK carrying the answer's cookie
         * (A16 HostEmulationManager.java:1756-1766).
         */
        private void acknowledge(Message response) {
            if (RESPONSE_ACK == null) {
                return;
            }
            Message ack = Message.obtain(null, RESPONSE_ACK);
            ack.arg1 = response.arg1;
            ack.replyTo = messenger;
            try {
                response.replyTo.send(ack);
            } catch (RemoteException e) {
                Log.e(TAG, "Failed to acknowledge MSG_RESPONSE_APDU");
            }
        }
    }

    // -- RegisteredAidCache ----------------------------------------------------------------------

    private static final class Resolution {
        ServiceRecord service;
        boolean conflict;
        final List<ComponentName> candidates = new ArrayList<>();
    }

    /**
     * RegisteredAidCache.resolveAidConflictLocked. Up to Android 14 (A14
     * RegisteredAidCache): the foreground-preferred service, then the default
     * payment service for payment AIDs, then a lone "other" service, else the
     * user is asked. From Android 15 the wallet role replaces the default
     * payment service (A16 RegisteredAidCache.java:492-510, 541-556): after the
     * foreground preference, the role holder's services win payment AND other
     * AIDs; nobody else's payment AIDs route. The role holder is a package
     * ({@link Phone#setWalletRoleHolder}); from API 36 apps signed like it may
     * share its priority ({@link Phone#sharesRoleHolderPriority}). From API 35 a
     * service the user switched off for "other" gets none of its other AIDs
     * unless it is preferred (A16 :327-362, nonDefaultResolution; :494-510).
     */
    private Resolution resolve(String aid) {
        Resolution result = new Resolution();
        List<ServiceRecord> other = new ArrayList<>();
        List<ServiceRecord> wallet = new ArrayList<>();
        ServiceRecord payment = null;
        ServiceRecord preferred = null;
        String defaultPayment;
        synchronized (phone) {
            defaultPayment = phone.defaultServices.get(CardEmulation.CATEGORY_PAYMENT);
        }
        boolean otherSwitch = phone.apiLevel >= Phone.MODULE_API;
        ComponentName defaultName = defaultPayment == null ? null
                : ComponentName.unflattenFromString(defaultPayment);
        boolean walletRole = phone.apiLevel >= Phone.WALLET_ROLE_API;
        for (ServiceRecord record : phone.services()) {
            for (Map.Entry<String, List<String>> group : record.effectiveGroups().entrySet()) {
                if (!matchesAny(group.getValue(), aid)) {
                    continue;
                }
                if (!result.candidates.contains(record.component)) {
                    result.candidates.add(record.component);
                }
                boolean isPayment = CardEmulation.CATEGORY_PAYMENT.equals(group.getKey());
                if (record.component.flattenToString().equals(phone.getPreferredService())) {
                    preferred = record;
                }
                boolean otherOff = otherSwitch && !isPayment && !record.otherEnabled();
                if (walletRole && phone.sharesRoleHolderPriority(record)) {
                    if (!otherOff && !wallet.contains(record)) {
                        wallet.add(record);
                    }
                } else if (isPayment) {
                    if (!walletRole && record.component.equals(defaultName)) {
                        payment = record;
                    }
                } else if (!otherOff && !other.contains(record)) {
                    other.add(record);
                }
            }
        }
        if (preferred != null) {
            result.service = preferred;
        } else if (!wallet.isEmpty()) {
            // several role-holder services: the first by component name (A16 :549-553)
            wallet.sort((a, b) -> String.CASE_INSENSITIVE_ORDER.compare(
                    a.component.toShortString(), b.component.toShortString()));
            result.service = wallet.get(0);
        } else if (payment != null) {
            result.service = payment;
        } else if (other.size() == 1) {
            result.service = other.get(0);
        } else if (other.size() > 1) {
            result.conflict = true;
        }
        return result;
    }

    /**
     * CardEmulation.isDefaultServiceForAid: A16 RegisteredAidCache.java:272-287,
     * true when the AID resolves to *component* without asking the user.
     */
    boolean isDefaultServiceForAid(ComponentName component, String aid) {
        ServiceRecord resolved = resolve(aid.toUpperCase(Locale.ROOT)).service;
        return resolved != null && resolved.component.equals(component);
    }

    private boolean matchesAny(List<String> filters, String aid) {
        for (String filter : filters) {
            if (filter.endsWith("*")) {
                if (phone.prefixRouting && aid.startsWith(filter.substring(0, filter.length() - 1))) {
                    return true;
                }
            } else if (filter.endsWith("#")) {
                if (phone.subsetRouting && filter.substring(0, filter.length() - 1).startsWith(aid)) {
                    return true;
                }
            } else if (filter.equals(aid)) {
                return true;
            }
        }
        return false;
    }

    static String findSelectAid(byte[] data) {
        if (data == null || data.length < 5 + 5) {
            return null;
        }
        if (data[0] != 0x00 || data[1] != (byte) 0xA4 || data[2] != 0x04) {
            return null;
        }
        int length = data[4] & 0xFF;
        if (data.length < 5 + length) {
            return null;
        }
        StringBuilder hex = new StringBuilder();
        for (int i = 5; i < 5 + length; i++) {
            hex.append(String.format(Locale.ROOT, "%02X", data[i] & 0xFF));
        }
        return hex.toString();
    }

    static byte[] hex(String text) {
        byte[] out = new byte[text.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(text.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    /** Tests: which services the NFC service has bound so far this tap (diagnostics). */
    public String activeService() {
        ComponentName name = activeName;
        return name == null ? null : name.flattenToString();
    }
}
