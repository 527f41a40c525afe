package io.sluice.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.channel.AddressedEnvelope;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.dns.DefaultDnsQuestion;
import io.netty.handler.codec.dns.DefaultDnsRecordDecoder;
import io.netty.handler.codec.dns.DnsRawRecord;
import io.netty.handler.codec.dns.DnsRecord;
import io.netty.handler.codec.dns.DnsRecordType;
import io.netty.handler.codec.dns.DnsResponse;
import io.netty.handler.codec.dns.DnsResponseCode;
import io.netty.handler.codec.dns.DnsSection;
import io.netty.resolver.dns.DnsNameResolver;
import io.netty.resolver.dns.DnsNameResolverBuilder;
import io.netty.resolver.dns.DnsNameResolverTimeoutException;
import io.netty.resolver.dns.DnsServerAddressStream;
import io.netty.resolver.dns.DnsServerAddressStreamProvider;
import io.netty.resolver.dns.DnsServerAddressStreamProviders;
import io.netty.resolver.dns.NoopDnsCache;
import io.netty.resolver.dns.NoopDnsCnameCache;
import io.netty.resolver.dns.SequentialDnsServerAddressStreamProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.sluice.config.HostPort;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Netty's DNS resolver on an event loop of its own (never a worker's), for the one thread that resolves server
 * host names and SRV records: its methods block that thread until the answer, never an event loop. Asks the
 * servers of {@code runtime.dns_servers}, else those of /etc/resolv.conf. Nothing is cached here: every
 * {@code dns_refresh} asks again, which is the point of refreshing.
 */
final class DnsClient implements AutoCloseable {
    /** Per query to one DNS server; a lookup tries each configured server in turn. */
    static final Duration QUERY_TIMEOUT = Duration.ofSeconds(3);

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
            new DefaultThreadFactory("sluice-dns-io", true), NioIoHandler.newFactory());
    private DnsServerAddressStreamProvider servers;
    private DnsNameResolver resolver;

    DnsClient(List<HostPort> dnsServers) {
        use(dnsServers);
    }

    /** Asks {@code dnsServers} from now on (empty: the system's). */
    void use(List<HostPort> dnsServers) {
        DnsServerAddressStreamProvider next = dnsServers.isEmpty() ? DnsServerAddressStreamProviders.platformDefault()
                : new SequentialDnsServerAddressStreamProvider(dnsServers.stream()
                        .map(hp -> new InetSocketAddress(hp.host(), hp.port())).toList());
        DnsNameResolver old = resolver;
        resolver = new DnsNameResolverBuilder(group.next())
                .datagramChannelType(NioDatagramChannel.class)
                // TCP when an answer comes back truncated: a large SRV set does not fit a UDP answer (netty#13616).
                .socketChannelType(NioSocketChannel.class)
                .nameServerProvider(next)
                .resolveCache(NoopDnsCache.INSTANCE)
                .cnameCache(NoopDnsCnameCache.INSTANCE)
                .queryTimeoutMillis(QUERY_TIMEOUT.toMillis())
                .build();
        servers = next;
        if (old != null) {
            old.close();
        }
    }

    /** One address of a host name (A or AAAA, or the hosts file); blocks the calling thread. */
    InetAddress resolve(String host) throws UnknownHostException, InterruptedException {
        try {
            return resolver.resolve(host).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownHostException u) {
                throw u;
            }
            UnknownHostException u = new UnknownHostException(host + ": " + e.getCause());
            u.initCause(e.getCause());
            throw u;
        }
    }

    /**
     * Looks up the SRV records of {@code name} (a fully qualified name), asking each DNS server in turn until
     * one answers with NOERROR or NXDOMAIN; blocks the calling thread. Targets' addresses come from the
     * additional section where the server put them there.
     */
    SrvAnswer srv(String name) throws InterruptedException {
        DnsServerAddressStream stream = servers.nameServerAddressStream(name);
        DnsResolutions.Result last = DnsResolutions.Result.ERROR;
        for (int i = 0; i < Math.max(1, stream.size()); i++) {
            InetSocketAddress server = stream.next();
            AddressedEnvelope<DnsResponse, InetSocketAddress> answer;
            try {
                answer = resolver.query(server, new DefaultDnsQuestion(name + ".", DnsRecordType.SRV)).get();
            } catch (ExecutionException e) {
                last = e.getCause() instanceof DnsNameResolverTimeoutException ? DnsResolutions.Result.TIMEOUT
                        : DnsResolutions.Result.ERROR;
                continue;
            }
            try {
                DnsResponse r = answer.content();
                DnsResponseCode code = r.code();
                if (code.equals(DnsResponseCode.NOERROR)) {
                    return read(r);
                }
                if (code.equals(DnsResponseCode.NXDOMAIN)) {
                    return SrvAnswer.failed(DnsResolutions.Result.NXDOMAIN);
                }
                last = code.equals(DnsResponseCode.SERVFAIL) ? DnsResolutions.Result.SERVFAIL
                        : DnsResolutions.Result.ERROR;
            } catch (RuntimeException e) {
                last = DnsResolutions.Result.ERROR; // a malformed record: another server may do better
            } finally {
                answer.release();
            }
        }
        return SrvAnswer.failed(last);
    }

    private static SrvAnswer read(DnsResponse r) {
        Map<String, InetAddress> additional = new HashMap<>();
        for (int i = 0; i < r.count(DnsSection.ADDITIONAL); i++) {
            DnsRecord rec = r.recordAt(DnsSection.ADDITIONAL, i);
            if (rec instanceof DnsRawRecord raw && (rec.type() == DnsRecordType.A || rec.type() == DnsRecordType.AAAA)) {
                InetAddress a = address(raw);
                if (a != null) {
                    additional.putIfAbsent(hostName(rec.name()), a); // the first, as a lookup would give one
                }
            }
        }
        List<SrvTarget> targets = new ArrayList<>();
        long ttl = Long.MAX_VALUE;
        for (int i = 0; i < r.count(DnsSection.ANSWER); i++) {
            DnsRecord rec = r.recordAt(DnsSection.ANSWER, i);
            if (rec.type() != DnsRecordType.SRV || !(rec instanceof DnsRawRecord raw)) {
                continue; // a CNAME on the way, say
            }
            // The content is a view of the whole message, so compressed target names can be followed.
            ByteBuf c = raw.content().duplicate();
            int priority = c.readUnsignedShort();
            int weight = c.readUnsignedShort();
            int port = c.readUnsignedShort();
            String target = hostName(DefaultDnsRecordDecoder.decodeName(c));
            ttl = Math.min(ttl, rec.timeToLive());
            if (!target.isEmpty() && port > 0) { // "." says the service is not offered here (RFC 2782)
                targets.add(new SrvTarget(target, port, priority, weight, additional.get(target)));
            }
        }
        if (targets.isEmpty()) {
            return SrvAnswer.failed(DnsResolutions.Result.NXDOMAIN);
        }
        return new SrvAnswer(DnsResolutions.Result.SUCCESS, targets, Duration.ofSeconds(ttl));
    }

    private static InetAddress address(DnsRawRecord raw) {
        ByteBuf c = raw.content();
        int n = c.readableBytes();
        if (n != 4 && n != 16) {
            return null;
        }
        byte[] bytes = new byte[n];
        c.getBytes(c.readerIndex(), bytes);
        try {
            return InetAddress.getByAddress(hostName(raw.name()), bytes);
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** Without the root's trailing dot, lower case: how a name is compared and shown. */
    private static String hostName(String dnsName) {
        String s = dnsName.endsWith(".") ? dnsName.substring(0, dnsName.length() - 1) : dnsName;
        return s.toLowerCase(Locale.ROOT);
    }

    @Override
    public void close() {
        if (resolver != null) {
            resolver.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
