package io.sluice.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real TCP server on 127.0.0.1 for tests, written with plain blocking java.net sockets (one thread per
 * connection) so it shares no code with the proxy under test.
 */
public final class TestBackend implements AutoCloseable {

    /** What the backend does with each connection. */
    public interface Behaviour {
        void serve(Socket socket, TestBackend backend) throws IOException;
    }

    private final String name;
    private final Behaviour behaviour;
    private final ServerSocket server;
    /** TLS on every connection, or null for plain TCP. */
    private final TestTls tls;
    private final Thread acceptor;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicLong bytesWritten = new AtomicLong();
    private volatile boolean closed;

    private TestBackend(String name, Behaviour behaviour, int port, TestTls tls) throws IOException {
        this.name = name;
        this.behaviour = behaviour;
        this.tls = tls;
        this.server = tls == null ? new ServerSocket() : tls.newServerSocket();
        server.setReuseAddress(true);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 512);
        this.acceptor = new Thread(this::acceptLoop, "backend-" + name);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public static TestBackend start(String name, Behaviour behaviour) throws IOException {
        return new TestBackend(name, behaviour, 0, null);
    }

    /** A backend whose connections are TLS ({@code behaviour} sees the plain bytes). */
    public static TestBackend startTls(String name, Behaviour behaviour, TestTls tls) throws IOException {
        return new TestBackend(name, behaviour, 0, tls);
    }

    /** Starts again on a given port (to bring back a server that was stopped). */
    public static TestBackend startOn(int port, String name, Behaviour behaviour) throws IOException {
        return new TestBackend(name, behaviour, port, null);
    }

    /** Writes its name and closes: shows which server a connection reached. */
    public static Behaviour sayName() {
        return (s, b) -> {
            OutputStream out = s.getOutputStream();
            out.write((b.name + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            s.shutdownOutput();
            drain(s.getInputStream());
        };
    }

    /** Echoes everything until the client half-closes, then half-closes back. */
    public static Behaviour echo() {
        return (s, b) -> {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[64 * 1024];
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                b.bytesWritten.addAndGet(n);
            }
            s.shutdownOutput();
        };
    }

    /** Reads until the client half-closes, then answers with the byte count and its name. */
    public static Behaviour countThenReply() {
        return (s, b) -> {
            long total = drain(s.getInputStream());
            OutputStream out = s.getOutputStream();
            out.write((total + " bytes to " + b.name + "\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            s.shutdownOutput();
        };
    }

    /** Holds the connection open without a word until the client goes away. */
    public static Behaviour hold() {
        return (s, b) -> drain(s.getInputStream());
    }

    /** Writes {@code total} bytes of a known pattern as fast as the client takes them, then closes. */
    public static Behaviour stream(long total) {
        return (s, b) -> {
            OutputStream out = s.getOutputStream();
            byte[] chunk = Patterns.chunk(64 * 1024);
            long left = total;
            while (left > 0) {
                int n = (int) Math.min(chunk.length, left);
                out.write(chunk, 0, n);
                b.bytesWritten.addAndGet(n);
                left -= n;
            }
            s.shutdownOutput();
            drain(s.getInputStream());
        };
    }

    public static long drain(InputStream in) throws IOException {
        byte[] buf = new byte[16 * 1024];
        long total = 0;
        int n;
        while ((n = in.read(buf)) > 0) {
            total += n;
        }
        return total;
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
            Thread t = new Thread(() -> {
                try (s) {
                    if (tls == null || tls.handshake(s)) {
                        behaviour.serve(s, this);
                    }
                } catch (SocketException | javax.net.ssl.SSLException e) {
                    // The peer went away: normal in tests that cut connections.
                } catch (IOException e) {
                    if (!closed) {
                        e.printStackTrace();
                    }
                } finally {
                    open.remove(s);
                }
            }, "backend-" + name + "-conn");
            t.setDaemon(true);
            t.start();
        }
    }

    public String name() {
        return name;
    }

    public int port() {
        return server.getLocalPort();
    }

    public String address() {
        return "127.0.0.1:" + port();
    }

    public int accepted() {
        return accepted.get();
    }

    public int openConnections() {
        return open.size();
    }

    public long bytesWritten() {
        return bytesWritten.get();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (Socket s : open) {
            s.close();
        }
        try {
            acceptor.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
