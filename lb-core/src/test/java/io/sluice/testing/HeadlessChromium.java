package io.sluice.testing;

import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A real Chromium, headless, driven over the DevTools protocol with nothing but the JDK: the browser prints its
 * DevTools WebSocket address on stderr, {@code /json/list} names the page's own socket, and
 * {@link java.net.http.WebSocket} carries the commands (Runtime.evaluate, Input.dispatchMouseEvent,
 * Page.captureScreenshot). {@link #close} kills the whole process tree and removes the profile.
 */
public final class HeadlessChromium implements AutoCloseable {
    /** The Debian package (and binary) the browser tests need. */
    public static final String PACKAGE = "chromium";
    private static final Pattern DEVTOOLS = Pattern.compile("DevTools listening on (ws://\\S+)");
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final Path profile;
    private final StringBuffer stderr = new StringBuffer();
    private final WebSocket socket;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<Map<String, Object>>> pending = new ConcurrentHashMap<>();

    /** The browser binary: {@code $SLUICE_CHROMIUM}, else {@code chromium} or {@code chromium-browser} on the PATH. */
    public static Optional<Path> find() {
        String override = System.getenv("SLUICE_CHROMIUM");
        if (override != null && !override.isBlank()) {
            return Optional.of(Path.of(override)).filter(Files::isExecutable);
        }
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.of(path.split(java.io.File.pathSeparator))
                .filter(d -> !d.isEmpty())
                .flatMap(d -> Stream.of(Path.of(d, "chromium"), Path.of(d, "chromium-browser")))
                .filter(Files::isExecutable)
                .findFirst();
    }

    /** Starts the browser on {@code url} with a 1280x900 window and connects to that page. */
    public static HeadlessChromium start(Path binary, String url) throws Exception {
        return new HeadlessChromium(binary, url);
    }

    private HeadlessChromium(Path binary, String url) throws Exception {
        profile = Files.createTempDirectory("sluice-chromium");
        process = new ProcessBuilder(binary.toString(), "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-extensions", "--mute-audio",
                "--password-store=basic", "--window-size=1280,900", "--lang=en-US",
                "--user-data-dir=" + profile, "--remote-debugging-port=0", url)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            CompletableFuture<String> browserWs = new CompletableFuture<>();
            Thread reader = new Thread(() -> readStderr(browserWs), "chromium-stderr");
            reader.setDaemon(true);
            reader.start();
            String ws;
            try {
                ws = browserWs.get(60, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("Chromium printed no DevTools address; its stderr:\n" + stderr, e);
            }
            URI devtools = URI.create(ws);
            socket = HttpClient.newHttpClient().newWebSocketBuilder()
                    .buildAsync(URI.create(pageSocket(devtools)), new Listener())
                    .get(30, TimeUnit.SECONDS);
            call("Page.enable", Map.of());
            call("Runtime.enable", Map.of());
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    private void readStderr(CompletableFuture<String> browserWs) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (stderr.length() < 64 * 1024) {
                    stderr.append(line).append('\n');
                }
                Matcher m = DEVTOOLS.matcher(line);
                if (m.find()) {
                    browserWs.complete(m.group(1));
                }
            }
        } catch (IOException ignored) {
            // the process went away
        }
        browserWs.completeExceptionally(new IllegalStateException("chromium exited"));
    }

    /** The page target's own WebSocket, from the browser's {@code /json/list} (polled until the page is there). */
    private static String pageSocket(URI browserWs) {
        HttpClient http = HttpClient.newHttpClient();
        URI list = URI.create("http://" + browserWs.getHost() + ":" + browserWs.getPort() + "/json/list");
        return await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
            String body = http.send(HttpRequest.newBuilder(list).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            for (Object t : (List<?>) MiniJson.parse(body)) {
                Map<?, ?> target = (Map<?, ?>) t;
                if ("page".equals(target.get("type")) && target.get("webSocketDebuggerUrl") != null) {
                    return (String) target.get("webSocketDebuggerUrl");
                }
            }
            return null;
        }, java.util.Objects::nonNull);
    }

    /** Sends one DevTools command and returns its {@code result}; a protocol error throws. */
    public synchronized Map<String, Object> call(String method, Map<String, Object> params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<Map<String, Object>> answer = new CompletableFuture<>();
        pending.put(id, answer);
        String message = "{\"id\":" + id + ",\"method\":" + MiniJson.quote(method) + ",\"params\":"
                + MiniJson.write(params) + "}";
        socket.sendText(message, true).get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        Map<String, Object> reply;
        try {
            reply = answer.get(CALL_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } finally {
            pending.remove(id);
        }
        if (reply.get("error") != null) {
            throw new IllegalStateException(method + " failed: " + MiniJson.write(reply.get("error")));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> result = (Map<String, Object>) reply.get("result");
        return result;
    }

    /**
     * Evaluates a JavaScript expression in the page (promises are awaited) and returns its value as JSON
     * values: String, Double, Boolean, List, Map or null. A thrown exception fails the call.
     */
    public Object evaluate(String expression) throws Exception {
        Map<String, Object> r = call("Runtime.evaluate",
                Map.of("expression", expression, "returnByValue", true, "awaitPromise", true));
        if (r.get("exceptionDetails") != null) {
            throw new IllegalStateException("JavaScript failed: " + expression + "\n"
                    + MiniJson.write(r.get("exceptionDetails")));
        }
        return ((Map<?, ?>) r.get("result")).get("value");
    }

    /** Clicks the middle of the first element {@code selector} matches, with real mouse events. */
    public void click(String selector) throws Exception {
        Object at = evaluate("(() => { const e = document.querySelector(" + MiniJson.quote(selector) + ");"
                + " if (!e) return null; e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
                + " return [r.x + r.width / 2, r.y + r.height / 2]; })()");
        if (at == null) {
            throw new IllegalStateException("nothing to click: " + selector);
        }
        List<?> xy = (List<?>) at;
        for (String type : List.of("mouseMoved", "mousePressed", "mouseReleased")) {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("type", type);
            p.put("x", xy.get(0));
            p.put("y", xy.get(1));
            if (!type.equals("mouseMoved")) {
                p.put("button", "left");
                p.put("clickCount", 1);
            }
            call("Input.dispatchMouseEvent", p);
        }
    }

    /** Navigates the page (a same-document navigation when only the fragment changes). */
    public void navigate(String url) throws Exception {
        call("Page.navigate", Map.of("url", url));
    }

    /** A PNG of the whole page, not just the window, cut at the end of the content. */
    public byte[] screenshot() throws Exception {
        List<?> size = (List<?>) evaluate("[document.documentElement.scrollWidth,"
                + " Math.max(1, Math.ceil(document.body.getBoundingClientRect().height))]");
        call("Emulation.setDeviceMetricsOverride", Map.of("width", ((Number) size.get(0)).intValue(),
                "height", ((Number) size.get(1)).intValue(), "deviceScaleFactor", 1, "mobile", false));
        try {
            return Base64.getDecoder().decode((String) call("Page.captureScreenshot", Map.of("format", "png")).get("data"));
        } finally {
            call("Emulation.clearDeviceMetricsOverride", Map.of());
        }
    }

    /** What the browser wrote on stderr so far (for failure messages). */
    public String stderr() {
        return stderr.toString();
    }

    @Override
    public void close() {
        if (socket != null) {
            socket.abort();
        }
        // Renderer, GPU and zygote processes first, so none outlives the browser; then wait for all of them.
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        tree.forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        tree.add(process.toHandle());
        try {
            for (ProcessHandle p : tree) {
                p.onExit().get(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // still there after 10 s: nothing more a test can do
        }
        pending.values().forEach(f -> f.completeExceptionally(new IllegalStateException("browser closed")));
        try (Stream<Path> files = Files.walk(profile)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // a temp dir left behind is harmless
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            text.append(data);
            if (last) {
                String message = text.toString();
                text.setLength(0);
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) MiniJson.parse(message);
                Object id = m.get("id");
                if (id instanceof Number n) {
                    CompletableFuture<Map<String, Object>> f = pending.get(n.intValue());
                    if (f != null) {
                        f.complete(m);
                    }
                }
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            pending.values().forEach(f -> f.completeExceptionally(new IllegalStateException("DevTools closed: " + reason)));
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            pending.values().forEach(f -> f.completeExceptionally(error));
        }
    }

    /** Just enough JSON for DevTools messages: parse to Map/List/String/Double/Boolean/null, and write them back. */
    static final class MiniJson {
        private final String s;
        private int i;

        private MiniJson(String s) {
            this.s = s;
        }

        static Object parse(String s) {
            MiniJson p = new MiniJson(s);
            Object v = p.value();
            p.ws();
            if (p.i != s.length()) {
                throw p.error("trailing characters");
            }
            return v;
        }

        private Object value() {
            ws();
            if (i >= s.length()) {
                throw error("unexpected end");
            }
            char c = s.charAt(i);
            switch (c) {
                case '{' -> {
                    i++;
                    Map<String, Object> m = new LinkedHashMap<>();
                    ws();
                    if (peek('}')) {
                        return m;
                    }
                    do {
                        ws();
                        String k = string();
                        ws();
                        expect(':');
                        m.put(k, value());
                        ws();
                    } while (peek(','));
                    expect('}');
                    return m;
                }
                case '[' -> {
                    i++;
                    List<Object> l = new ArrayList<>();
                    ws();
                    if (peek(']')) {
                        return l;
                    }
                    do {
                        l.add(value());
                        ws();
                    } while (peek(','));
                    expect(']');
                    return l;
                }
                case '"' -> {
                    return string();
                }
                default -> {
                    for (String word : List.of("true", "false", "null")) {
                        if (s.startsWith(word, i)) {
                            i += word.length();
                            return word.equals("null") ? null : Boolean.valueOf(word);
                        }
                    }
                    int start = i;
                    while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                        i++;
                    }
                    if (start == i) {
                        throw error("unexpected character");
                    }
                    return Double.valueOf(s.substring(start, i));
                }
            }
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> b.append(e); // " \ /
                }
            }
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private boolean peek(char c) {
            if (i < s.length() && s.charAt(i) == c) {
                i++;
                return true;
            }
            return false;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw error("expected " + c);
            }
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException(what + " at " + i + " in " + s.substring(0, Math.min(s.length(), 300)));
        }

        static String write(Object v) {
            if (v == null) {
                return "null";
            }
            if (v instanceof String str) {
                return quote(str);
            }
            if (v instanceof Number || v instanceof Boolean) {
                return v.toString();
            }
            StringBuilder b = new StringBuilder();
            if (v instanceof Map<?, ?> m) {
                b.append('{');
                m.forEach((k, x) -> b.append(b.length() > 1 ? "," : "").append(quote(k.toString())).append(':')
                        .append(write(x)));
                return b.append('}').toString();
            }
            if (v instanceof List<?> l) {
                b.append('[');
                l.forEach(x -> b.append(b.length() > 1 ? "," : "").append(write(x)));
                return b.append(']').toString();
            }
            throw new IllegalArgumentException("not JSON: " + v.getClass());
        }

        static String quote(String s) {
            StringBuilder b = new StringBuilder(s.length() + 2).append('"');
            for (int k = 0; k < s.length(); k++) {
                char c = s.charAt(k);
                if (c == '"' || c == '\\') {
                    b.append('\\').append(c);
                } else if (c < 0x20 || c == 0x2028 || c == 0x2029) {
                    b.append(String.format("\\u%04x", (int) c));
                } else {
                    b.append(c);
                }
            }
            return b.append('"').toString();
        }
    }
}
