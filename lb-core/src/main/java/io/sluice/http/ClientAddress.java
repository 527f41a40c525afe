package io.sluice.http;

import java.net.Inet6Address;
import java.net.InetSocketAddress;

/** The client's address as forwarded headers and the access log write it; {@code ip} null when unknown. */
record ClientAddress(String ip, boolean ipv6) {
    static final ClientAddress UNKNOWN = new ClientAddress(null, false);

    static ClientAddress of(InetSocketAddress remote) {
        if (remote == null || remote.getAddress() == null) {
            return UNKNOWN;
        }
        return new ClientAddress(remote.getAddress().getHostAddress(), remote.getAddress() instanceof Inet6Address);
    }
}
