package io.sluice.http;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A client connection that sends bytes exactly as written and parses responses strictly: for proxy tests. */
final class RawHttp implements AutoCloseable {
    final Socket socket;
    private final InputStream in;
    final OutputStream out;

    record Response(int status, Map<String, List<String>> headers, byte[] body) {
        String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null ? null : v.get(0);
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    RawHttp(int port) throws IOException {
        this(null, port);
    }

    /** A client connecting from {@code from} (a loopback address such as 127.0.0.2), or from any when null. */
    RawHttp(String from, int port) throws IOException {
        socket = new Socket();
        if (from != null) {
            socket.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
        }
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
        socket.setSoTimeout(20_000);
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** How long a read may wait (20 s unless changed). */
    RawHttp readTimeout(java.time.Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
        return this;
    }

    RawHttp send(String raw) throws IOException {
        out.write(raw.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        return this;
    }

    Response get(String path) throws IOException {
        return send("GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n").read(false);
    }

    Response read() throws IOException {
        return read(false);
    }

    /** Reads one response; {@code headOnly} for responses to HEAD. Throws when the stream ends early. */
    Response read(boolean headOnly) throws IOException {
        String status = HttpBackend.readLine(in);
        if (status == null) {
            throw new IOException("connection closed before a response");
        }
        int code = Integer.parseInt(status.split(" ")[1]);
        Map<String, List<String>> headers = new LinkedHashMap<>();
        String h;
        while ((h = HttpBackend.readLine(in)) != null && !h.isEmpty()) {
            int colon = h.indexOf(':');
            headers.computeIfAbsent(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                    .add(h.substring(colon + 1).trim());
        }
        if (h == null) {
            throw new IOException("connection closed in the response head");
        }
        if (code < 200 || headOnly || code == 204 || code == 304) {
            return new Response(code, headers, new byte[0]);
        }
        InputStream body;
        List<String> te = headers.get("transfer-encoding");
        List<String> cl = headers.get("content-length");
        if (te != null) {
            body = new HttpBackend.ChunkedInput(in);
        } else if (cl != null) {
            body = new HttpBackend.FixedInput(in, Long.parseLong(cl.get(0)));
        } else {
            body = in;
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        body.transferTo(b);
        return new Response(code, headers, b.toByteArray());
    }

    /** True when the proxy closed the connection: the next read sees end of stream (or a reset). */
    boolean closedByPeer() throws IOException {
        try {
            return in.read() == -1;
        } catch (SocketException e) {
            return true;
        }
    }

    /** Half-closes: the proxy reads the end of the request stream. */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    InputStream in() {
        return in;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
