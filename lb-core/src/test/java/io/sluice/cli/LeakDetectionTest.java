package io.sluice.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.util.ResourceLeakDetector;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class LeakDetectionTest {
    @Test
    void offUnlessTheOperatorChose() {
        assertEquals(ResourceLeakDetector.Level.DISABLED, LeakDetection.choose(new Properties()));
    }

    @Test
    void anExplicitLevelStays() {
        Properties p = new Properties();
        p.setProperty("io.netty.leakDetection.level", "simple");
        assertNull(LeakDetection.choose(p));
    }

    @Test
    void netty3StyleNamesCountAsAChoiceToo() {
        Properties p = new Properties();
        p.setProperty("io.netty.leakDetectionLevel", "advanced");
        assertNull(LeakDetection.choose(p));
        Properties q = new Properties();
        q.setProperty("io.netty.noResourceLeakDetection", "false");
        assertNull(LeakDetection.choose(q));
    }
}
