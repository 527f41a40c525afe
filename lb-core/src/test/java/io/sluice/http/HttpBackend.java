package io.sluice.http;

import static org.awaitility.Awaitility.await;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small HTTP/1.1 server on 127.0.0.1 for tests, on plain blocking sockets (one thread per connection) so it
 * shares no code with the proxy. It keeps connections alive, counts them, and records every request head.
 */
final class HttpBackend implements AutoCloseable {

    /** Answers one request; must write a complete response unless it means to break the connection. */
    interface Handler {
        void handle(Request req, OutputStream out, Socket socket) throws IOException;
    }

    record Request(String method, String uri, String version, Map<String, List<String>> headers, InputStream body) {
        String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null ? null : v.get(0);
        }

        List<String> all(String name) {
            return headers.getOrDefault(name.toLowerCase(Locale.ROOT), List.of());
        }

        byte[] readBody() throws IOException {
            return body.readAllBytes();
        }
    }

    private final String name;
    private final Handler handler;
    private final ServerSocket server;
    /** TLS on every connection, or null for plain HTTP. */
    private final io.sluice.testing.TestTls tls;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    /** Every accepted connection, in accept order. */
    private final List<Conn> conns = new CopyOnWriteArrayList<>();
    final List<Request> requests = new CopyOnWriteArrayList<>();
    /** Every byte read from any connection once {@link #recordBytes} was called, in the order read. */
    private volatile ByteArrayOutputStream recorded;
    private volatile boolean closed;

    HttpBackend(String name, Handler handler) throws IOException {
        this(name, handler, null);
    }

    /** An HTTPS backend when {@code tls} is given. */
    HttpBackend(String name, Handler handler, io.sluice.testing.TestTls tls) throws IOException {
        this(name, handler, tls, 512);
    }

    /** With room for {@code backlog} connections not yet accepted (a flood's connects arrive faster than threads). */
    HttpBackend(String name, Handler handler, io.sluice.testing.TestTls tls, int backlog) throws IOException {
        this.name = name;
        this.handler = handler;
        this.tls = tls;
        this.server = tls == null ? new ServerSocket() : tls.newServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), backlog);
        Thread t = new Thread(this::acceptLoop, "http-backend-" + name);
        t.setDaemon(true);
        t.start();
    }

    /** From now on every byte read is kept, for {@link #bytesRecorded}. */
    HttpBackend recordBytes() {
        recorded = new ByteArrayOutputStream();
        return this;
    }

    /** The bytes read since {@link #recordBytes}, as ISO-8859-1 text (all the proxy sent once its answers are in). */
    String bytesRecorded() {
        ByteArrayOutputStream r = recorded;
        synchronized (r) {
            return r.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /** 200 with body "NAME METHOD URI" after reading the request body. */
    static Handler sayName(String name) {
        return (req, out, s) -> {
            req.readBody();
            respond(out, 200, "text/plain", (name + " " + req.method() + " " + req.uri()).getBytes(StandardCharsets.UTF_8));
        };
    }

    /** 200 with the URI as its body; a request for {@code slowUri} is answered only once {@code release} opens. */
    static Handler holding(String slowUri, java.util.concurrent.CountDownLatch release) {
        return (req, out, s) -> {
            if (req.uri().equals(slowUri)) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            respond(out, 200, "text/plain", req.uri().getBytes(StandardCharsets.UTF_8));
        };
    }

    static void respond(OutputStream out, int status, String type, byte[] body) throws IOException {
        // The standard reason phrase, as real servers send: Sluice's fast path for plain responses
        // (ResponseHeadParser) takes only those, and most HTTP tests should go through it.
        String reason = io.netty.handler.codec.http.HttpResponseStatus.valueOf(status).reasonPhrase();
        String head = "HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: " + type + "\r\nContent-Length: " + body.length
                + "\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
    }

    /** Writes a response given whole as text. */
    static void respondRaw(OutputStream out, String response) throws IOException {
        out.write(response.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                return;
            }
            accepted.incrementAndGet();
            open.add(s);
            Conn conn = new Conn(s.getPort());
            conns.add(conn);
            Thread t = new Thread(() -> serve(s, conn), "http-backend-" + name + "-conn");
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket s, Conn conn) {
        try (s) {
            if (tls != null && !tls.handshake(s)) {
                return;
            }
            InputStream in = new BufferedInputStream(new Counting(s.getInputStream(), conn.received, recorded));
            OutputStream out = s.getOutputStream();
            while (true) {
                Request req = readHead(in);
                if (req == null) {
                    return;
                }
                requests.add(req);
                handler.handle(req, out, s);
                if (s.isClosed()) {
                    return;
                }
                req.body().transferTo(OutputStream.nullOutputStream());
                if ("close".equalsIgnoreCase(req.header("connection"))) {
                    return;
                }
            }
        } catch (IOException e) {
            // The proxy went away or a test cut the connection.
        } finally {
            open.remove(s);
            conn.ended = true;
        }
    }

    /** One accepted connection: the client's port (to find it again), bytes read from it, and whether it ended. */
    private static final class Conn {
        final int remotePort;
        final AtomicLong received = new AtomicLong();
        volatile boolean ended;

        Conn(int remotePort) {
            this.remotePort = remotePort;
        }
    }

    /** Counts what is read from the stream, and copies it when given where. */
    static final class Counting extends FilterInputStream {
        private final AtomicLong count;
        /** Where to copy what is read, or null. */
        private final ByteArrayOutputStream copy;

        Counting(InputStream in, AtomicLong count, ByteArrayOutputStream copy) {
            super(in);
            this.count = count;
            this.copy = copy;
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count.incrementAndGet();
                if (copy != null) {
                    synchronized (copy) {
                        copy.write(b);
                    }
                }
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count.addAndGet(n);
                if (copy != null) {
                    synchronized (copy) {
                        copy.write(b, off, n);
                    }
                }
            }
            return n;
        }
    }

    /**
     * Every byte that reached this server, counted once nothing more can arrive. The caller must first close
     * whatever could still send (the proxy). A request that was forwarded may still sit unaccepted in the
     * listen backlog or unread in a socket, so "nothing recorded yet" proves nothing: instead a connection of
     * our own is made and awaited. The single accept thread takes the backlog in order, so once ours has been
     * accepted every earlier connection has been too; then each of those is awaited to its end of stream,
     * and by then its bytes have been read and counted, whether or not they formed a request.
     */
    long bytesReceivedOnceQuiet() throws IOException {
        try (Socket marker = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
            int port = marker.getLocalPort();
            await().atMost(Duration.ofSeconds(10)).until(() -> conns.stream().anyMatch(c -> c.remotePort == port));
            List<Conn> earlier = new ArrayList<>();
            for (Conn c : conns) {
                if (c.remotePort == port) {
                    break;
                }
                earlier.add(c);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> earlier.stream().allMatch(c -> c.ended));
            return earlier.stream().mapToLong(c -> c.received.get()).sum();
        }
    }

    private static Request readHead(InputStream in) throws IOException {
        String line = readLine(in);
        if (line == null) {
            return null;
        }
        String[] parts = line.split(" ", 3);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        String h;
        while ((h = readLine(in)) != null && !h.isEmpty()) {
            int colon = h.indexOf(':');
            headers.computeIfAbsent(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(h.substring(colon + 1).trim());
        }
        InputStream body;
        List<String> te = headers.get("transfer-encoding");
        List<String> cl = headers.get("content-length");
        if (te != null && te.get(0).equalsIgnoreCase("chunked")) {
            body = new ChunkedInput(in);
        } else if (cl != null) {
            body = new FixedInput(in, Long.parseLong(cl.get(0)));
        } else {
            body = InputStream.nullInputStream();
        }
        return new Request(parts[0], parts[1], parts.length > 2 ? parts[2] : "", headers, body);
    }

    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) != -1) {
            if (c == '\n') {
                String s = b.toString(StandardCharsets.ISO_8859_1);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    static final class FixedInput extends InputStream {
        private final InputStream in;
        private long left;

        FixedInput(InputStream in, long length) {
            this.in = in;
            this.left = length;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new IOException("body cut short");
            }
            left -= n;
            return n;
        }
    }

    static final class ChunkedInput extends InputStream {
        /** The trailer fields after the last chunk, as their lines, once the body was read to its end. */
        final List<String> trailers = new CopyOnWriteArrayList<>();
        private final InputStream in;
        private long left;
        private boolean done;

        ChunkedInput(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (left == 0) {
                String size = readLine(in);
                if (size == null) {
                    throw new IOException("chunked body cut short");
                }
                int semi = size.indexOf(';');
                left = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                if (left == 0) {
                    String t;
                    while ((t = readLine(in)) != null && !t.isEmpty()) {
                        trailers.add(t);
                    }
                    done = true;
                    return -1;
                }
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new IOException("chunk cut short");
            }
            left -= n;
            if (left == 0) {
                readLine(in);
            }
            return n;
        }
    }

    String address() {
        return "127.0.0.1:" + server.getLocalPort();
    }

    int accepted() {
        return accepted.get();
    }

    /** Connections open now (a connection ends when the proxy closes it or a handler fails writing to it). */
    int openConnections() {
        return open.size();
    }

    /**
     * 200 with {@code size} bytes of body, written as fast as the proxy takes them, through a small send buffer
     * (so that a stalled client holds little kernel memory on this side).
     */
    static Handler large(long size) {
        return (req, out, s) -> {
            req.readBody();
            s.setSendBufferSize(16 * 1024);
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + size
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = new byte[64 * 1024];
            for (long left = size; left > 0; left -= chunk.length) {
                out.write(chunk, 0, (int) Math.min(chunk.length, left));
            }
            out.flush();
        };
    }

    Request last() {
        return requests.get(requests.size() - 1);
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (Socket s : open) {
            s.close();
        }
    }
}
