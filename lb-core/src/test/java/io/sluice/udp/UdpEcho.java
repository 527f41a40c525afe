package io.sluice.udp;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A UDP server for tests: answers each datagram with its name, ':' and the datagram, {@code replies} times, and
 * remembers which client addresses it saw (Sluice's flow sockets).
 */
final class UdpEcho implements AutoCloseable {
    private final DatagramSocket socket;
    private final Thread thread;
    final Set<String> peers = ConcurrentHashMap.newKeySet();

    UdpEcho(String name, int replies) throws SocketException {
        socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        byte[] prefix = (name + ":").getBytes(StandardCharsets.US_ASCII);
        thread = new Thread(() -> {
            byte[] buf = new byte[65536];
            while (!socket.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    socket.receive(p);
                    peers.add(p.getSocketAddress().toString());
                    byte[] out = new byte[prefix.length + p.getLength()];
                    System.arraycopy(prefix, 0, out, 0, prefix.length);
                    System.arraycopy(buf, 0, out, prefix.length, p.getLength());
                    for (int i = 0; i < replies; i++) {
                        socket.send(new DatagramPacket(out, out.length, p.getSocketAddress()));
                    }
                } catch (IOException e) {
                    return;
                }
            }
        }, "udp-echo-" + name);
        thread.setDaemon(true);
        thread.start();
    }

    String address() {
        return "127.0.0.1:" + socket.getLocalPort();
    }

    @Override
    public void close() throws InterruptedException {
        socket.close();
        thread.join(5000);
    }
}
