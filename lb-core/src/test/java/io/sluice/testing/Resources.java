package io.sluice.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * What a test opened (servers, Sluice, clients), closed in reverse order when the test ends: a field
 * {@code @AutoClose final Resources resources = new Resources();}. A test that fails half-way still closes
 * what it opened, and later things (a client) close before the earlier ones they use (Sluice, its servers).
 */
public final class Resources implements AutoCloseable {
    private final List<AutoCloseable> opened = new ArrayList<>();

    public <T extends AutoCloseable> T keep(T t) {
        opened.add(t);
        return t;
    }

    @Override
    public void close() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
    }
}
