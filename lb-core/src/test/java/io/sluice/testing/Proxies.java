package io.sluice.testing;

import io.sluice.Sluice;
import io.sluice.config.ConfigLoader;
import io.sluice.runtime.ConfigFile;
import io.sluice.runtime.ReloadResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Starting Sluice from YAML in tests, and talking to it like a client would. */
public final class Proxies {
    private Proxies() {
    }

    /** Starts Sluice from YAML; binds use port 0 so tests never collide. */
    public static Sluice start(String yaml) throws Exception {
        return Sluice.start(ConfigLoader.parse(yaml));
    }

    /** Starts Sluice from {@code yaml} written to {@code file}, which {@link Sluice#reloadAsync} reads again. */
    public static Sluice startFromFile(Path file, String yaml) throws Exception {
        Files.writeString(file, yaml);
        return Sluice.start(ConfigLoader.load(file), new ConfigFile(file), "start");
    }

    /** Rewrites {@code file} with {@code yaml} and reloads it; fails unless the reload was applied. */
    public static void reload(Sluice sluice, Path file, String yaml) throws Exception {
        Files.writeString(file, yaml);
        ReloadResult result = sluice.reloadAsync().get(30, TimeUnit.SECONDS);
        if (!result.applied()) {
            throw new AssertionError("reload not applied: " + result);
        }
    }

    /** One TCP listener, {@code front}, in front of one server; {@code runtime} is e.g. {@code "transport: nio"}. */
    public static Sluice startTcp(String runtime, String serverAddress) throws Exception {
        return startTcp(runtime, "", serverAddress);
    }

    /**
     * The same with options for the listener, e.g. {@code ", splice: true"}.
     */
    public static Sluice startTcp(String runtime, String listenerOptions, String serverAddress) throws Exception {
        return start("""
                runtime: { %s }
                admin: { enabled: false }
                listeners:
                  - { name: front, bind: "127.0.0.1:0", cluster: app%s }
                clusters:
                  - name: app
                    servers: [ { address: "%s" } ]
                """.formatted(runtime, listenerOptions, serverAddress));
    }

    /** One HTTP listener, {@code web}, in front of one server, on one event loop of {@code transport}. */
    public static Sluice startHttp(String transport, String serverAddress) throws Exception {
        return start("""
                runtime: { transport: %s, worker_threads: 1 }
                admin: { enabled: false }
                listeners:
                  - { name: web, bind: "127.0.0.1:0", protocol: http, cluster: app }
                clusters:
                  - name: app
                    servers: [ { address: "%s" } ]
                """.formatted(transport, serverAddress));
    }

    /**
     * One TCP listener in one of the L4 test modes: a transport name, or {@code splice} (epoll, with the
     * listener's splice option). {@code runtimeExtra} is e.g. {@code ", worker_threads: 1"}.
     */
    public static Sluice startTcpMode(String mode, String runtimeExtra, String serverAddress) throws Exception {
        return startTcp("transport: " + Transports.transportOf(mode) + Transports.runtimeExtraOf(mode) + runtimeExtra,
                Transports.isSplice(mode) ? ", splice: true" : "", serverAddress);
    }

        public static int port(Sluice sluice, String listener) {
        return sluice.listener(listener).localAddress().getPort();
    }

    /**
     * A port free on loopback right now, for configs that must name their port before binding it. Taken outside
     * the kernel's ephemeral range ({@code net.ipv4.ip_local_port_range}): a port from that range could meanwhile
     * become the local port of one of the tests' own outgoing connections, and the test's bind then failed with
     * "Address already in use" (seen once in a run of the http tests). Handed out in turn, so one JVM gets a port
     * again only after all the others.
     */
    public static int freePort() throws IOException {
        int[] range = ephemeralRange();
        int below = range[0] - FIRST_PORT;       // FIRST_PORT .. range[0] - 1
        int above = Math.max(0, 65_535 - range[1]); // range[1] + 1 .. 65535
        for (int tries = 0; below + above > 0 && tries < 2000; tries++) {
            int i = Math.floorMod(nextCandidate.getAndIncrement(), below + above);
            int port = i < below ? FIRST_PORT + i : range[1] + 1 + (i - below);
            try (java.net.ServerSocket s = new java.net.ServerSocket()) {
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
                return port;
            } catch (IOException taken) {
                // in use: the next one
            }
        }
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** Above the ports services commonly use (8080, 9090, 9901...), which a developer's machine may run. */
    private static final int FIRST_PORT = 10_000;
    /** Where this JVM's next {@link #freePort} looks: a random start, so that JVMs run one after another differ. */
    private static final java.util.concurrent.atomic.AtomicInteger nextCandidate =
            new java.util.concurrent.atomic.AtomicInteger(java.util.concurrent.ThreadLocalRandom.current().nextInt(1 << 16));

    /** Linux's ephemeral port range; the IANA one elsewhere. Its low end is never below {@link #FIRST_PORT}. */
    private static int[] ephemeralRange() {
        try {
            // Not Files.readString: it reads a file of size 0 one byte first, and a sysctl file read at an offset
            // ends there (Linux 6.18): "1", and every freePort was then picked from inside the real range.
            String[] r = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim()
                    .split("\\s+");
            return new int[] {Math.max(FIRST_PORT, Integer.parseInt(r[0])), Integer.parseInt(r[1])};
        } catch (IOException | RuntimeException e) {
            return new int[] {49_152, 65_535};
        }
    }

    public static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
        s.setSoTimeout(20_000);
        return s;
    }

    /**
     * Connects from {@code from} (any 127.x address: a client the proxy can tell apart), writes {@code bytes} and
     * returns everything the other side sent until it closed; "" when it reset the connection instead.
     */
    public static String sendFrom(String from, int port, String bytes) throws IOException {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
            s.setSoTimeout(20_000);
            s.getOutputStream().write(bytes.getBytes(StandardCharsets.ISO_8859_1));
            s.getOutputStream().flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        } catch (java.net.SocketException e) {
            return "";
        }
    }

    /** Connects, half-closes at once, and returns everything the other side sent until it closed. */
    public static String exchange(int port) throws IOException {
        try (Socket s = connect(port)) {
            s.shutdownOutput();
            return readAll(s.getInputStream());
        }
    }

    /** Writes {@code text} and reads the same number of bytes back: one exchange with an echo server. */
    public static void roundTrip(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        String back = new String(s.getInputStream().readNBytes(text.length()), StandardCharsets.US_ASCII);
        if (!back.equals(text)) {
            throw new AssertionError("sent \"" + text + "\", got back \"" + back + "\"");
        }
    }

    public static String readAll(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    /** GET on the admin endpoint. */
    public static HttpResponse<String> admin(Sluice sluice, String path) throws IOException, InterruptedException {
        InetSocketAddress a = sluice.adminAddress();
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.getPort() + path))
                .timeout(Duration.ofSeconds(10)).GET().build();
        return client.send(req, HttpResponse.BodyHandlers.ofString());
    }

    /** The value of one sample in a Prometheus text exposition, or NaN when absent. */
    public static double sample(String exposition, String nameWithLabels) {
        Matcher m = Pattern.compile("^" + Pattern.quote(nameWithLabels) + " (\\S+)$", Pattern.MULTILINE)
                .matcher(exposition);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }
}
