package io.sluice.cluster;

import java.net.InetAddress;

/**
 * One SRV record: a target host and port with its priority and weight, and the target's address when the
 * answer's additional section carried it (else null: it is looked up).
 */
record SrvTarget(String host, int port, int priority, int weight, InetAddress address) {

    String label() {
        return host + ":" + port;
    }

    SrvTarget withAddress(InetAddress a) {
        return new SrvTarget(host, port, priority, weight, a);
    }
}
