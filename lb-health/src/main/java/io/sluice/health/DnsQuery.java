package io.sluice.health;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * A DNS health check's question and what answer passes. The message is a dozen header bytes and one question
 * (RFC 1035 4.1), written by hand: a codec would cost more than the bytes.
 *
 * @param name   the name asked about, e.g. "example.com"
 * @param type   the query type code (1 = A, 28 = AAAA, ...)
 * @param rcodes response codes that pass (0 = NOERROR)
 */
public record DnsQuery(String name, int type, Set<Integer> rcodes) {
    private static final int HEADER = 12;
    private static final int CLASS_IN = 1;
    /** QR (this is a response) in the flags' first byte. */
    private static final int QR = 0x80;

    public DnsQuery {
        rcodes = Set.copyOf(rcodes);
    }

    /** Writes the query with {@code id}, recursion desired, to {@code out}. */
    public void write(int id, ByteBuf out) {
        out.writeShort(id);
        out.writeShort(0x0100); // standard query, RD
        out.writeShort(1); // QDCOUNT
        out.writeShort(0).writeShort(0).writeShort(0);
        String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
        if (!n.isEmpty()) {
            for (String label : n.split("\\.")) {
                byte[] b = label.getBytes(StandardCharsets.US_ASCII);
                out.writeByte(b.length).writeBytes(b);
            }
        }
        out.writeByte(0);
        out.writeShort(type);
        out.writeShort(CLASS_IN);
    }

    /**
     * Why {@code answer} fails the check, or null when it passes. An answer to another query (a stray or late
     * datagram) is reported as {@link #NOT_OURS}, to be ignored rather than failed.
     */
    public String judge(int id, ByteBuf answer) {
        if (answer.readableBytes() < HEADER) {
            return "short answer (" + answer.readableBytes() + " bytes)";
        }
        int at = answer.readerIndex();
        if (answer.getUnsignedShort(at) != id || (answer.getUnsignedByte(at + 2) & QR) == 0) {
            return NOT_OURS;
        }
        int rcode = answer.getUnsignedByte(at + 3) & 0x0F;
        return rcodes.contains(rcode) ? null : "rcode " + rcodeName(rcode);
    }

    /** What {@link #judge} says of a datagram that is not the answer to this probe. */
    public static final String NOT_OURS = "not ours";

    static String rcodeName(int rcode) {
        return switch (rcode) {
            case 0 -> "NOERROR";
            case 1 -> "FORMERR";
            case 2 -> "SERVFAIL";
            case 3 -> "NXDOMAIN";
            case 4 -> "NOTIMP";
            case 5 -> "REFUSED";
            default -> Integer.toString(rcode);
        };
    }
}
