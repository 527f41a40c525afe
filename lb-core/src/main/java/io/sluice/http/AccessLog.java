package io.sluice.http;

import io.sluice.config.AccessLogConfig;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One line per request, formatted and written on a thread of its own: the event loop only hands over an entry
 * to a bounded queue and never waits for a disk. When the writer cannot keep up, entries are dropped and
 * counted rather than slowing traffic.
 */
final class AccessLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AccessLog.class);
    private static final int QUEUE = 64 * 1024;
    private static final DateTimeFormatter CLF = DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    record Entry(long epochMillis, String client, String method, String uri, String protocol, int status,
                 long bytes, long durationNanos, String route, String cluster, String server, String requestId,
                 String host) {
    }

    private final AccessLogConfig config;
    private final BlockingQueue<Entry> queue = new ArrayBlockingQueue<>(QUEUE);
    private final LongAdder dropped = new LongAdder();
    private final Writer out;
    private final Thread writer;
    private volatile boolean closed;

    AccessLog(AccessLogConfig config, String listener) throws IOException {
        this.config = config;
        this.out = config.path().equals("-")
                ? new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8))
                : Files.newBufferedWriter(Path.of(config.path()), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
        this.writer = new Thread(this::run, "sluice-access-log-" + listener);
        writer.setDaemon(true);
        writer.start();
    }

    /** Called on an event loop: never blocks. */
    void add(Entry e) {
        if (!queue.offer(e)) {
            dropped.increment();
        }
    }

    long dropped() {
        return dropped.sum();
    }

    private void run() {
        List<Entry> batch = new ArrayList<>(256);
        StringBuilder sb = new StringBuilder(256);
        while (!closed || !queue.isEmpty()) {
            try {
                Entry first = queue.take();
                batch.add(first);
                queue.drainTo(batch, 255);
                for (Entry e : batch) {
                    sb.setLength(0);
                    format(e, sb);
                    out.write(sb.append('\n').toString());
                }
                batch.clear();
                // Flush whenever the queue runs dry: lines appear promptly and a crash loses little.
                if (queue.isEmpty()) {
                    out.flush();
                }
            } catch (InterruptedException e) {
                // close(): the loop condition lets the queue drain, then ends.
            } catch (IOException e) {
                log.warn("access log {}: {}", config.path(), e.toString());
                batch.clear();
            }
        }
        try {
            out.flush();
        } catch (IOException ignored) {
            // Nothing left to tell.
        }
    }

    void format(Entry e, StringBuilder sb) {
        if (config.format() == AccessLogConfig.Format.JSON) {
            sb.append("{\"time\":\"").append(Instant.ofEpochMilli(e.epochMillis())).append('"');
            field(sb, "client", e.client());
            field(sb, "method", e.method());
            field(sb, "uri", e.uri());
            field(sb, "protocol", e.protocol());
            sb.append(",\"status\":").append(e.status());
            sb.append(",\"bytes\":").append(e.bytes());
            sb.append(",\"duration_ms\":").append(String.format(Locale.ROOT, "%.3f", e.durationNanos() / 1e6));
            field(sb, "route", e.route());
            field(sb, "cluster", e.cluster());
            field(sb, "server", e.server());
            field(sb, "request_id", e.requestId());
            field(sb, "host", e.host());
            sb.append('}');
        } else {
            // Common Log Format, then what CLF has no place for.
            sb.append(e.client()).append(" - - [").append(CLF.format(Instant.ofEpochMilli(e.epochMillis())))
                    .append("] \"").append(clean(e.method())).append(' ').append(clean(e.uri())).append(' ')
                    .append(e.protocol()).append("\" ").append(e.status()).append(' ').append(e.bytes())
                    .append(' ').append(String.format(Locale.ROOT, "%.3f", e.durationNanos() / 1e9))
                    .append(" route=").append(e.route()).append(" cluster=").append(e.cluster())
                    .append(" server=").append(e.server() == null ? "-" : e.server())
                    .append(" id=").append(clean(e.requestId())).append(" host=").append(clean(e.host()));
        }
    }

    private static void field(StringBuilder sb, String name, String value) {
        sb.append(",\"").append(name).append("\":");
        if (value == null) {
            sb.append("null");
            return;
        }
        sb.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }

    /** Client-chosen text in a text line: no spaces or quotes that would shift the fields. */
    private static String clean(String s) {
        if (s == null) {
            return "-";
        }
        StringBuilder b = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c == '"' || c == 0x7f) {
                if (b == null) {
                    b = new StringBuilder(s.substring(0, i));
                }
                b.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
            } else if (b != null) {
                b.append(c);
            }
        }
        return b == null ? s : b.toString();
    }

    @Override
    public void close() {
        closed = true;
        writer.interrupt();
        try {
            writer.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!config.path().equals("-")) {
            // A reload that changes or removes the log closes it: the file must not stay open behind it.
            try {
                out.close();
            } catch (IOException e) {
                // nothing left to write it to
            }
        }
    }
}
