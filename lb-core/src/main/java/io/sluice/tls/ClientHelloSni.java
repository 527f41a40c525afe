package io.sluice.tls;

import io.netty.buffer.ByteBuf;

/**
 * Reads the server name (SNI, RFC 6066) out of a TLS ClientHello body, the handshake message without its
 * four-byte header, as RFC 8446 section 4.1.2 lays it out. Every length is checked against the one around it,
 * so a hello that lies about a length is refused rather than read past.
 */
public final class ClientHelloSni {
    private static final int SERVER_NAME = 0;
    private static final int HOST_NAME = 0;
    /** A DNS name is at most 253 characters; RFC 6066 allows up to 2^16-1 bytes, which no real name needs. */
    private static final int MAX_NAME = 255;

    private ClientHelloSni() {
    }

    /** Thrown for a ClientHello that does not parse. */
    public static final class MalformedHello extends Exception {
        MalformedHello(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * The host_name the client asked for, in lower case, or null when the hello carries no server_name extension
     * (or one without a host_name). Reads {@code hello} from its reader index without moving it.
     */
    public static String serverName(ByteBuf hello) throws MalformedHello {
        int at = hello.readerIndex();
        int end = hello.writerIndex();
        at = skip(hello, at, end, 2 + 32); // legacy_version, random
        at = vectorEnd(hello, at, end, 1); // legacy_session_id
        at = vectorEnd(hello, at, end, 2); // cipher_suites
        at = vectorEnd(hello, at, end, 1); // legacy_compression_methods
        if (at == end) {
            return null; // a TLS 1.2 hello may carry no extensions at all
        }
        int extensionsEnd = vectorEnd(hello, at, end, 2);
        at += 2;
        String name = null;
        while (at < extensionsEnd) {
            int type = u16(hello, at, extensionsEnd);
            int dataEnd = vectorEnd(hello, at + 2, extensionsEnd, 2);
            if (type == SERVER_NAME) {
                if (name != null) {
                    throw new MalformedHello("two server_name extensions");
                }
                name = hostName(hello, at + 4, dataEnd);
            }
            at = dataEnd;
        }
        return name;
    }

    /** The first host_name of a ServerNameList; RFC 6066 allows one name per type. */
    private static String hostName(ByteBuf b, int at, int end) throws MalformedHello {
        int listEnd = vectorEnd(b, at, end, 2);
        at += 2;
        while (at < listEnd) {
            if (at + 1 > listEnd) {
                throw new MalformedHello("truncated server_name entry");
            }
            int type = b.getUnsignedByte(at);
            int nameEnd = vectorEnd(b, at + 1, listEnd, 2);
            if (type == HOST_NAME) {
                return ascii(b, at + 3, nameEnd);
            }
            at = nameEnd;
        }
        return null;
    }

    private static String ascii(ByteBuf b, int from, int to) throws MalformedHello {
        int length = to - from;
        if (length == 0 || length > MAX_NAME) {
            throw new MalformedHello("server name of " + length + " bytes");
        }
        char[] name = new char[length];
        for (int i = 0; i < length; i++) {
            int c = b.getUnsignedByte(from + i);
            if (c >= 'A' && c <= 'Z') {
                c += 'a' - 'A';
            } else if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_')) {
                throw new MalformedHello("server name with byte 0x" + Integer.toHexString(c));
            }
            name[i] = (char) c;
        }
        // "api.example.com." is the same name, fully qualified: routed as termination's SniTable matches it.
        int kept = length > 1 && name[length - 1] == '.' ? length - 1 : length;
        return new String(name, 0, kept);
    }

    private static int skip(ByteBuf b, int at, int end, int n) throws MalformedHello {
        if (at + n > end) {
            throw new MalformedHello("truncated ClientHello");
        }
        return at + n;
    }

    /** Where a vector that starts at {@code at} with a length prefix of {@code lengthBytes} ends. */
    private static int vectorEnd(ByteBuf b, int at, int end, int lengthBytes) throws MalformedHello {
        int length = lengthBytes == 1 ? u8(b, at, end) : u16(b, at, end);
        return skip(b, at + lengthBytes, end, length);
    }

    private static int u8(ByteBuf b, int at, int end) throws MalformedHello {
        skip(b, at, end, 1);
        return b.getUnsignedByte(at);
    }

    private static int u16(ByteBuf b, int at, int end) throws MalformedHello {
        skip(b, at, end, 2);
        return b.getUnsignedShort(at);
    }
}
