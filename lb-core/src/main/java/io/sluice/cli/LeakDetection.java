package io.sluice.cli;

import io.netty.util.ResourceLeakDetector;
import java.util.Properties;

/**
 * Turns Netty's buffer leak detector off for a production process unless the operator chose a level. At
 * Netty's default level ({@code simple}) one buffer in 128 records a stack trace when allocated, which cost
 * 0.9% (new connections) to 3.4% (gRPC) of an event loop's time in our profiles (docs/bench/measurements-*.md).
 * The tests run every path with {@code paranoid} detection, which fails them on a leak, so a production
 * process pays for a check the build already makes; Micronaut and Ratpack made the same choice. An explicit
 * {@code -Dio.netty.leakDetection.level=simple} (or Netty's older property names) brings it back, for example
 * to hunt a leak seen in the field.
 */
final class LeakDetection {
    static final String PROPERTY = "io.netty.leakDetection.level";
    /** Netty's earlier names for the same choice, which it still reads. */
    private static final String[] OLDER = {"io.netty.leakDetectionLevel", "io.netty.noResourceLeakDetection"};

    private LeakDetection() {
    }

    /** The level to set, or null when the operator set one and it stays. */
    static ResourceLeakDetector.Level choose(Properties p) {
        if (p.getProperty(PROPERTY) != null) {
            return null;
        }
        for (String name : OLDER) {
            if (p.getProperty(name) != null) {
                return null;
            }
        }
        return ResourceLeakDetector.Level.DISABLED;
    }

    /** Applies the choice to this process; returns a line for the startup log. */
    static String apply(Properties p) {
        ResourceLeakDetector.Level level = choose(p);
        if (level == null) {
            return "Netty leak detection: " + ResourceLeakDetector.getLevel().name().toLowerCase()
                    + " (set by -D" + PROPERTY + " or an older Netty property)";
        }
        ResourceLeakDetector.setLevel(level);
        return "Netty leak detection: off (tests run it at paranoid; -D" + PROPERTY + "=simple turns it on)";
    }
}
