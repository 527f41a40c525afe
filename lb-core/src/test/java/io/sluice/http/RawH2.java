package io.sluice.http;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A deliberately naive HTTP/2 client on a plain socket for tests that must send what real clients refuse to:
 * frames written by hand, header blocks as HPACK literals without indexing or Huffman. {@link #serverSide} makes it
 * the server's end of an accepted connection instead, for servers that behave as no library would.
 */
final class RawH2 implements AutoCloseable {
    static final int DATA = 0, HEADERS = 1, RST_STREAM = 3, SETTINGS = 4, PING = 6, GOAWAY = 7, WINDOW_UPDATE = 8,
            CONTINUATION = 9;
    static final int SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
    static final int END_STREAM = 1, END_HEADERS = 4;
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    record Frame(int type, int flags, int stream, byte[] payload) {
        long errorCode() {
            int at = type == GOAWAY ? 4 : 0;
            return ((payload[at] & 0xffL) << 24) | ((payload[at + 1] & 0xff) << 16) | ((payload[at + 2] & 0xff) << 8)
                    | (payload[at + 3] & 0xff);
        }
    }

    final Socket socket;
    private final OutputStream out;
    private final DataInputStream in;
    /** What the server lets us send (only for {@link #sendData}): its connection window and each stream's. */
    private long connectionSendWindow = 65_535;
    private long initialStreamSendWindow = 65_535;
    private final java.util.Map<Integer, Long> streamSendWindows = new java.util.HashMap<>();
    /** Frames read while waiting for window, returned by {@link #read} first. */
    private final java.util.ArrayDeque<Frame> held = new java.util.ArrayDeque<>();

    RawH2(int port, int... settings) throws IOException {
        this(port, 0, settings);
    }

    /**
     * The server's side of a connection a test accepted (a server written by hand): reads the client's preface and
     * sends empty SETTINGS; the client's SETTINGS are acknowledged as {@link #read} meets them.
     */
    static RawH2 serverSide(Socket accepted) throws IOException {
        return new RawH2(accepted);
    }

    private RawH2(Socket accepted) throws IOException {
        socket = accepted;
        socket.setSoTimeout(20_000);
        out = socket.getOutputStream();
        in = new DataInputStream(socket.getInputStream());
        byte[] preface = in.readNBytes(PREFACE.length);
        if (!java.util.Arrays.equals(preface, PREFACE)) {
            throw new IOException("not an HTTP/2 client preface");
        }
        frame(SETTINGS, 0, 0, new byte[0]);
    }

    /** A client whose socket receive buffer is small, so that what it has not read stays on the server side. */
    static RawH2 withReceiveBuffer(int port, int receiveBuffer, int... settings) throws IOException {
        return new RawH2(port, receiveBuffer, settings);
    }

    private RawH2(int port, int receiveBuffer, int[] settings) throws IOException {
        socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", port));
        socket.setSoTimeout(20_000);
        out = socket.getOutputStream();
        in = new DataInputStream(socket.getInputStream());
        out.write(PREFACE);
        ByteArrayOutputStream s = new ByteArrayOutputStream();
        for (int i = 0; i + 1 < settings.length; i += 2) {
            s.write(settings[i] >> 8);
            s.write(settings[i]);
            writeInt(s, settings[i + 1]);
        }
        frame(SETTINGS, 0, 0, s.toByteArray());
    }

    /** A header block of literals: name, value, name, value... */
    static byte[] block(String... nameValues) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = 0; i < nameValues.length; i += 2) {
            b.write(0);
            literal(b, nameValues[i]);
            literal(b, nameValues[i + 1]);
        }
        return b.toByteArray();
    }

    private static void literal(ByteArrayOutputStream b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.US_ASCII);
        if (bytes.length >= 127) {
            throw new IllegalArgumentException("short strings only");
        }
        b.write(bytes.length);
        b.writeBytes(bytes);
    }

    void frame(int type, int flags, int stream, byte[] payload) throws IOException {
        ByteArrayOutputStream f = new ByteArrayOutputStream(9 + payload.length);
        f.write(payload.length >> 16);
        f.write(payload.length >> 8);
        f.write(payload.length);
        f.write(type);
        f.write(flags);
        writeInt(f, stream);
        f.writeBytes(payload);
        out.write(f.toByteArray());
        out.flush();
    }

    void headers(int stream, boolean endStream, String... nameValues) throws IOException {
        frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), stream, block(nameValues));
    }

    void rst(int stream) throws IOException {
        frame(RST_STREAM, 0, stream, new byte[] {0, 0, 0, 8}); // CANCEL
    }

    /**
     * DATA on one stream, in frames of at most 16 KiB, each sent only when the server's windows allow it: the
     * server's SETTINGS and WINDOW_UPDATEs are read (other frames kept for {@link #read}) until they do.
     */
    void sendData(int stream, byte[] data, boolean endStream) throws IOException {
        int at = 0;
        do {
            int n = Math.min(16_384, data.length - at);
            while (n > 0 && Math.min(connectionSendWindow, streamSendWindow(stream)) < n) {
                Frame f = readFrame();
                if (f == null) {
                    throw new java.io.EOFException("closed while waiting for window");
                }
                if (!applyFlowControl(f)) {
                    held.add(f);
                }
            }
            boolean last = at + n == data.length;
            frame(DATA, endStream && last ? END_STREAM : 0, stream, java.util.Arrays.copyOfRange(data, at, at + n));
            connectionSendWindow -= n;
            streamSendWindows.put(stream, streamSendWindow(stream) - n);
            at += n;
        } while (at < data.length);
    }

    private long streamSendWindow(int stream) {
        return streamSendWindows.getOrDefault(stream, initialStreamSendWindow);
    }

    private boolean applyFlowControl(Frame f) throws IOException {
        if (f.type == WINDOW_UPDATE) {
            long increment = ((f.payload[0] & 0x7fL) << 24) | ((f.payload[1] & 0xff) << 16)
                    | ((f.payload[2] & 0xff) << 8) | (f.payload[3] & 0xff);
            if (f.stream == 0) {
                connectionSendWindow += increment;
            } else {
                streamSendWindows.put(f.stream, streamSendWindow(f.stream) + increment);
            }
            return true;
        }
        if (f.type == SETTINGS && (f.flags & 1) == 0) {
            for (int i = 0; i + 6 <= f.payload.length; i += 6) {
                int id = ((f.payload[i] & 0xff) << 8) | (f.payload[i + 1] & 0xff);
                if (id == SETTINGS_INITIAL_WINDOW_SIZE) {
                    long value = ((f.payload[i + 2] & 0xffL) << 24) | ((f.payload[i + 3] & 0xff) << 16)
                            | ((f.payload[i + 4] & 0xff) << 8) | (f.payload[i + 5] & 0xff);
                    long delta = value - initialStreamSendWindow;
                    initialStreamSendWindow = value;
                    streamSendWindows.replaceAll((stream, window) -> window + delta);
                }
            }
            // The server counts on its new initial window only from our acknowledgement on (RFC 9113 6.5.3).
            frame(SETTINGS, 1, 0, new byte[0]);
            return true;
        }
        return false;
    }

    /** Gives the server {@code increment} more bytes to send on {@code stream} (0: the connection). */
    void windowUpdate(int stream, int increment) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(4);
        writeInt(b, increment);
        frame(WINDOW_UPDATE, 0, stream, b.toByteArray());
    }

    /**
     * The next frame, or null when the connection closed. The server's SETTINGS and WINDOW_UPDATEs count for
     * {@link #sendData} (and SETTINGS are acknowledged) here too.
     */
    Frame read() throws IOException {
        Frame f = held.poll();
        if (f == null && (f = readFrame()) != null) {
            try {
                applyFlowControl(f);
            } catch (IOException closing) {
                // The server no longer reads (it is closing): the acknowledgement is moot, the end is read next.
            }
        }
        return f;
    }

    private Frame readFrame() throws IOException {
        int len;
        try {
            len = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
        } catch (java.io.EOFException | java.net.SocketException e) {
            return null;
        }
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & 0x7fffffff;
        byte[] payload = new byte[len];
        in.readFully(payload);
        if (System.getenv("RAWH2_DEBUG") != null) {
            System.err.println("frame type=" + type + " stream=" + stream + " len=" + len + " flags=" + flags);
        }
        Frame f = new Frame(type, flags, stream, payload);
        if (System.getenv("RAWH2_DEBUG") != null && (type == RST_STREAM || type == WINDOW_UPDATE)) {
            System.err.println("  code/increment=" + f.errorCode());
        }
        return f;
    }

    /** Reads until a frame of {@code type} for {@code stream} (any stream when -1); null when the connection closed. */
    Frame await(int type, int stream) throws IOException {
        Frame f;
        while ((f = read()) != null) {
            if (f.type == type && (stream < 0 || f.stream == stream)) {
                return f;
            }
        }
        return null;
    }

    private static void writeInt(ByteArrayOutputStream b, int v) {
        b.write(v >>> 24);
        b.write(v >>> 16);
        b.write(v >>> 8);
        b.write(v);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
