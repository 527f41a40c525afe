package io.sluice.reliability;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;

/**
 * Client threads sending requests back to back until closed, each outcome (a status and body, or what went
 * wrong) tallied by its text, so that a test can say exactly what its clients saw.
 */
final class LoadLoop implements AutoCloseable {
    final Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
    private volatile boolean running = true;
    private final List<Thread> threads = new ArrayList<>();

    /** {@code client} gives each client thread (by its index) the request it repeats; it returns the outcome. */
    LoadLoop(int clients, IntFunction<Callable<String>> client) {
        for (int i = 0; i < clients; i++) {
            Callable<String> request = client.apply(i);
            Thread t = new Thread(() -> {
                while (running) {
                    String outcome;
                    try {
                        outcome = request.call();
                    } catch (Exception e) {
                        outcome = e.toString();
                    }
                    outcomes.computeIfAbsent(outcome, k -> new LongAdder()).increment();
                }
            }, "load-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
    }

    long count(String outcome) {
        LongAdder a = outcomes.get(outcome);
        return a == null ? 0 : a.sum();
    }

    long total() {
        return outcomes.values().stream().mapToLong(LongAdder::sum).sum();
    }

    /** Outcomes other than {@code good}, with their counts. */
    Map<String, Long> except(String good) {
        Map<String, Long> m = new java.util.TreeMap<>();
        outcomes.forEach((k, v) -> {
            if (!k.equals(good) && !k.startsWith(good + " ")) {
                m.put(k, v.sum());
            }
        });
        return m;
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        for (Thread t : threads) {
            t.join(30_000);
        }
    }
}
