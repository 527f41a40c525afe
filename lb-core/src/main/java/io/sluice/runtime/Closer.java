package io.sluice.runtime;

import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes what was opened, newest first. Start-up registers each thread pool, socket and registry entry here
 * the moment it exists, so a step that fails half way closes exactly what the earlier steps opened, and
 * shutdown is the same walk. One close that throws does not stop the others.
 */
public final class Closer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Closer.class);

    private final Deque<AutoCloseable> stack = new ArrayDeque<>();

    public synchronized <T extends AutoCloseable> T add(T resource) {
        stack.push(resource);
        return resource;
    }

    @Override
    public void close() {
        AutoCloseable next;
        while ((next = pop()) != null) {
            try {
                next.close();
            } catch (Exception e) {
                log.warn("while closing {}: {}", next, e.toString());
            }
        }
    }

    private synchronized AutoCloseable pop() {
        return stack.poll();
    }
}
