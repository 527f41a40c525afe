package io.sluice.net;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Who a client connection is: the address a trusted PROXY protocol header named, else the socket's peer. Every
 * place that uses a client's address (forwarded headers, the access log, {@code source_ip} hashing) asks here,
 * so a header changes all of them at once.
 *
 * @param address the client, null when unknown (a socket without an IP peer)
 * @param tlvs    the v2 header's TLVs as sent (type and value), empty without a header or for v1
 */
public record ClientSource(InetSocketAddress address, List<Tlv> tlvs) {
    private static final AttributeKey<ClientSource> KEY = AttributeKey.valueOf("sluice.clientSource");

    public ClientSource {
        tlvs = List.copyOf(tlvs);
    }

    /** One v2 TLV, copied out of the header so that it outlives the reference-counted message. */
    public record Tlv(int type, byte[] value) {
    }

    /** The client of {@code channel} (for an HTTP/2 stream, pass the connection). */
    public static InetSocketAddress of(Channel channel) {
        // hasAttr first: attr() would add an empty attribute to every channel without a header.
        ClientSource told = channel.hasAttr(KEY) ? channel.attr(KEY).get() : null;
        if (told != null) {
            return told.address();
        }
        return channel.remoteAddress() instanceof InetSocketAddress a ? a : null;
    }

    /** What a PROXY header said about {@code channel}, or null when none was read. */
    public static ClientSource told(Channel channel) {
        return channel.hasAttr(KEY) ? channel.attr(KEY).get() : null;
    }

    static void set(Channel channel, ClientSource source) {
        channel.attr(KEY).set(source);
    }
}
