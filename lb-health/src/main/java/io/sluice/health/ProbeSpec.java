package io.sluice.health;

import java.time.Duration;
import java.util.List;

/**
 * How to check a target: TCP connect, an HTTP request whose status (and optionally body) must match, or the
 * standard gRPC health check.
 *
 * @param path         the HTTP request's path; for {@link Kind#GRPC} the service name
 * @param expectStatus inclusive ranges of accepted statuses, e.g. {200, 399}
 * @param expectBody   substring the first {@link #MAX_BODY} bytes of the body must contain, or null
 * @param port         probe this port instead of the target's; 0 = the target's port
 * @param rise         consecutive passes that bring a DOWN target UP
 * @param fall         consecutive failures that take an UP target DOWN
 * @param tls          wraps each probe connection in TLS before it is checked, or null for plain TCP
 * @param preamble     bytes written first on each probe connection, before TLS and the check (a PROXY protocol
 *                     v2 LOCAL header for servers that require one), or null
 * @param dns          {@link Kind#DNS}: the query and the response codes that pass; null for other kinds
 */
public record ProbeSpec(Kind kind, String method, String path, String host, List<int[]> expectStatus,
                        String expectBody, Duration interval, Duration timeout, Duration jitter, int rise, int fall,
                        int port, ProbeTls tls, byte[] preamble, DnsQuery dns) {

    /** Bytes of an HTTP check's body that are read and searched; the rest is discarded. */
    public static final int MAX_BODY = 64 * 1024;

    public enum Kind {
        TCP, HTTP,
        /** The HTTP check over HTTP/2 (prior knowledge, or ALPN h2 from {@link #tls}), for servers that speak only it. */
        HTTP2,
        /** grpc.health.v1.Health/Check over HTTP/2; {@link #path} is the service asked about ("" = the server). */
        GRPC,
        /** A DNS query over UDP ({@link #dns}): passes when the answer to it carries an expected response code. */
        DNS
    }

    public ProbeSpec {
        expectStatus = List.copyOf(expectStatus);
    }

    /** A plain (no TLS) probe. */
    public ProbeSpec(Kind kind, String method, String path, String host, List<int[]> expectStatus,
                     String expectBody, Duration interval, Duration timeout, Duration jitter, int rise, int fall,
                     int port) {
        this(kind, method, path, host, expectStatus, expectBody, interval, timeout, jitter, rise, fall, port, null,
                null, null);
    }

    /** A DNS check: {@code query} sent over UDP every interval. */
    public static ProbeSpec dns(DnsQuery query, Duration interval, Duration timeout, Duration jitter, int rise,
                                int fall, int port) {
        return new ProbeSpec(Kind.DNS, null, null, null, List.of(), null, interval, timeout, jitter, rise, fall, port,
                null, null, query);
    }

    /** The same checks over TLS set up by {@code tls} (null: plain). */
    public ProbeSpec withTls(ProbeTls tls) {
        return new ProbeSpec(kind, method, path, host, expectStatus, expectBody, interval, timeout, jitter, rise, fall,
                port, tls, preamble, dns);
    }

    /** The same checks, each connection starting with {@code bytes} (null: nothing). */
    public ProbeSpec withPreamble(byte[] bytes) {
        return new ProbeSpec(kind, method, path, host, expectStatus, expectBody, interval, timeout, jitter, rise, fall,
                port, tls, bytes == null ? null : bytes.clone(), dns);
    }

    public static ProbeSpec tcp(Duration interval, Duration timeout, int rise, int fall) {
        return new ProbeSpec(Kind.TCP, null, null, null, List.of(), null, interval, timeout, Duration.ZERO, rise,
                fall, 0);
    }

    public boolean statusAccepted(int status) {
        for (int[] r : expectStatus) {
            if (status >= r[0] && status <= r[1]) {
                return true;
            }
        }
        return false;
    }
}
