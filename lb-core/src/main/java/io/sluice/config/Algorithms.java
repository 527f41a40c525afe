package io.sluice.config;

import java.util.Iterator;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * The balancing algorithms a config may name. The balance package implements this and registers it in
 * {@code META-INF/services}: the loader has to check {@code algorithm} and {@code hash_fallback} where it
 * still knows their line and column, but config must not depend on balance, which depends on config.
 */
public interface Algorithms {

    /** Every algorithm name, in the order error messages list them. */
    Set<String> names();

    /** Whether {@code name} places work by {@code hash_key}, and so cannot be anyone's fallback. */
    boolean hashing(String name);

    /** The registered catalog; fails loudly when none is, since no config could then be checked. */
    static Algorithms installed() {
        return Installed.CATALOG;
    }

    /** Looked up once, on first use, so that loading config classes alone stays free of side effects. */
    final class Installed {
        private static final Algorithms CATALOG = find();

        private Installed() {
        }

        private static Algorithms find() {
            Iterator<Algorithms> found = ServiceLoader.load(Algorithms.class, Algorithms.class.getClassLoader())
                    .iterator();
            if (!found.hasNext()) {
                throw new IllegalStateException("no " + Algorithms.class.getName()
                        + " registered in META-INF/services (lb-core's balance package provides one)");
            }
            return found.next();
        }
    }
}
