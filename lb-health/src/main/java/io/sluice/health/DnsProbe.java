package io.sluice.health;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.group.ChannelGroup;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One DNS check: a connected datagram socket (so an ICMP port unreachable fails it at once instead of waiting for
 * the timeout), one query with a random id, and the first answer with that id decides.
 */
final class DnsProbe extends ChannelInboundHandlerAdapter {
    private final DnsQuery query;
    private final int id;
    private final Prober.Attempt attempt;

    private DnsProbe(DnsQuery query, int id, Prober.Attempt attempt) {
        this.query = query;
        this.id = id;
        this.attempt = attempt;
    }

    static void start(HealthTarget target, InetSocketAddress address, Class<? extends Channel> datagramClass,
                      Prober.Attempt attempt, ChannelGroup inFlight) {
        DnsQuery query = target.spec().dns();
        int id = ThreadLocalRandom.current().nextInt(1 << 16);
        ChannelFuture f = new Bootstrap().group(target.loop()).channel(datagramClass)
                .handler(new DnsProbe(query, id, attempt))
                .connect(address);
        attempt.channel = f.channel();
        inFlight.add(f.channel());
        f.addListener(c -> {
            if (!c.isSuccess()) {
                attempt.finish(ProbeResult.failure("cannot reach " + address + ": " + c.cause().getMessage()));
                return;
            }
            ByteBuf out = f.channel().alloc().buffer(32 + query.name().length());
            query.write(id, out);
            f.channel().writeAndFlush(out).addListener(w -> {
                if (!w.isSuccess()) {
                    attempt.finish(ProbeResult.failure("send failed: " + w.cause().getMessage()));
                }
            });
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            ByteBuf answer = msg instanceof ByteBufHolder h ? h.content() : msg instanceof ByteBuf b ? b : null;
            if (answer == null) {
                return;
            }
            String why = query.judge(id, answer);
            if (why == null) {
                attempt.finish(ProbeResult.OK);
            } else if (!DnsQuery.NOT_OURS.equals(why)) {
                attempt.finish(ProbeResult.failure(why));
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        attempt.finish(ProbeResult.failure(cause instanceof PortUnreachableException ? "port unreachable"
                : cause.getClass().getSimpleName() + ": " + cause.getMessage()));
    }
}
