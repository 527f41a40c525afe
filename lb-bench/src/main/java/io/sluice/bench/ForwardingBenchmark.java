package io.sluice.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.sluice.Sluice;
import io.sluice.config.ConfigLoader;
import io.sluice.config.TransportKind;
import io.sluice.net.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The L4 forwarding path end to end on loopback: a client echoes {@code size} bytes through Sluice to a Netty
 * echo server, against the same exchange straight to the echo server in the same run ({@code target=direct}),
 * so the cost Sluice adds reads as a ratio rather than as a machine-dependent absolute.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ForwardingBenchmark {

    /**
     * {@code sluice}: the buffer relay on the default transport (io_uring); {@code sluice_epoll}: the buffer relay
     * on epoll; {@code sluice_splice}: epoll with the listener's {@code splice: true}, so the last two compare
     * the two ways of moving bytes on one transport.
     */
    @Param({"direct", "sluice", "sluice_epoll", "sluice_splice"})
    public String target;

    @Param({"64", "1048576"})
    public int size;

    private EventLoopGroup echoGroup;
    private Channel echo;
    private Sluice sluice;
    private Socket client;
    private OutputStream out;
    private InputStream in;
    private byte[] payload;
    private byte[] reply;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        Transport transport = Transport.select(TransportKind.AUTO);
        echoGroup = transport.newGroup(1, "bench-echo");
        echo = new ServerBootstrap().group(echoGroup).channel(transport.serverChannelClass())
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new EchoHandler());
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
        int echoPort = ((InetSocketAddress) echo.localAddress()).getPort();
        int port = echoPort;
        if (!target.equals("direct")) {
            String transportName = target.equals("sluice") ? "auto" : "epoll";
            boolean splice = target.equals("sluice_splice");
            sluice = Sluice.start(ConfigLoader.parse("""
                    runtime: { worker_threads: 1, transport: %s }
                    admin: { enabled: false }
                    listeners: [ { name: bench, bind: "127.0.0.1:0", cluster: echo, splice: %s } ]
                    clusters: [ { name: echo, servers: [ { address: "127.0.0.1:%d" } ] } ]
                    """.formatted(transportName, splice, echoPort)));
            port = sluice.listener("bench").localAddress().getPort();
        }
        client = new Socket();
        client.setTcpNoDelay(true);
        client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
        client.setSoTimeout(30_000);
        out = client.getOutputStream();
        in = client.getInputStream();
        payload = new byte[size];
        reply = new byte[size];
    }

    /** Sends {@code size} bytes and reads the echo back; returns the last byte so nothing is optimised away. */
    @Benchmark
    public byte roundTrip() throws IOException {
        out.write(payload);
        out.flush();
        int read = 0;
        while (read < size) {
            int n = in.read(reply, read, size - read);
            if (n < 0) {
                throw new IOException("closed after " + read + " bytes");
            }
            read += n;
        }
        return reply[size - 1];
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        client.close();
        if (sluice != null) {
            sluice.close();
        }
        echo.close().sync();
        echoGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
}
