package org.hcekit.robo;

import org.junit.runners.model.FrameworkMethod;
import org.junit.runners.model.InitializationError;
import org.robolectric.RobolectricTestRunner;
import org.robolectric.internal.bytecode.InstrumentationConfiguration;

/** Robolectric's runner, leaving the bridge and the harness to the parent loader (one copy each). */
public final class PhoneRunner extends RobolectricTestRunner {
    public PhoneRunner(Class<?> test) throws InitializationError {
        super(test);
    }

    @Override
    protected InstrumentationConfiguration createClassLoaderConfig(FrameworkMethod method) {
        return new InstrumentationConfiguration.Builder(super.createClassLoaderConfig(method))
                .doNotAcquirePackage("org.hcekit.bridge")
                .doNotAcquirePackage("org.hcekit.robo")
                .build();
    }
}
