package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequestDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;

/**
 * Raw bytes from a client into an HTTP listener's real pipeline ({@link ExchangeHarness}: the listener's codec and
 * front handler, servers as EmbeddedChannels answering 200). Whatever the bytes: no exception escapes the
 * pipeline, every request either gets a 4xx/5xx from Sluice or reaches a server as a request that a strict parser
 * reads back with the same method, target and body the client sent, every request lease is given back, and no
 * buffer leaks (paranoid leak detection). Seeds: {@code HttpRequestFuzzTestInputs/requestPath}.
 */
@Tag("fuzz")
class HttpRequestFuzzTest {
    static final int MAX_INPUT = 8192;
    private static final byte[] OK = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final Pattern STATUS = Pattern.compile("HTTP/1\\.[01] (\\d{3}) ");

    @FuzzTest(maxDuration = "30s")
    void requestPath(byte[] input) throws Exception {
        if (input.length > MAX_INPUT) {
            return;
        }
        List<FullHttpRequest> forwarded = new ArrayList<>();
        StringBuilder toClient = new StringBuilder();
        try (ExchangeHarness h = new ExchangeHarness()) {
            h.client.writeInbound(Unpooled.wrappedBuffer(input));
            // Answer every request a server got; the front handler then starts the next one the client sent.
            for (int round = 0; round < 100; round++) {
                boolean more = false;
                for (int k = 0; k < h.pool.opened.size(); k++) { // answering may open another connection
                    EmbeddedChannel server = h.pool.opened.get(k);
                    byte[] bytes = ExchangeHarness.drain(server).getBytes(StandardCharsets.ISO_8859_1);
                    if (bytes.length == 0) {
                        continue;
                    }
                    List<FullHttpRequest> got = parse(bytes, true);
                    forwarded.addAll(got);
                    for (int i = 0; i < got.size() && server.isActive(); i++) {
                        server.writeInbound(Unpooled.wrappedBuffer(OK));
                    }
                    more = true;
                }
                toClient.append(h.clientReceived());
                if (!more) {
                    break;
                }
            }
            h.client.checkException();
        }
        List<FullHttpRequest> sent = parse(input, false);
        try {
            int ok = 0;
            Matcher m = STATUS.matcher(toClient);
            while (m.find()) {
                int status = Integer.parseInt(m.group(1));
                assertThat(status == 100 || status == 200 || status >= 400 && status <= 599)
                        .as("status %d to the client: a server's 200, or Sluice's 4xx/5xx", status).isTrue();
                if (status == 200) {
                    ok++;
                }
            }
            assertThat(ok).as("200s are the servers' answers").isLessThanOrEqualTo(forwarded.size());
            // What reached a server is what the client sent, request by request, up to the first one Sluice refused.
            for (int i = 0; i < forwarded.size() && i < sent.size(); i++) {
                FullHttpRequest f = forwarded.get(i);
                FullHttpRequest c = sent.get(i);
                assertThat(f.method()).as("method of request %d", i).isEqualTo(c.method());
                if (c.uri().startsWith("/")) {
                    assertThat(f.uri()).as("target of request %d", i).isEqualTo(c.uri());
                }
                assertThat(ByteBufUtil.getBytes(f.content())).as("body of request %d", i)
                        .isEqualTo(ByteBufUtil.getBytes(c.content()));
            }
        } finally {
            forwarded.forEach(FullHttpRequest::release);
            sent.forEach(FullHttpRequest::release);
        }
    }

    /**
     * Requests in {@code bytes}, read by Netty's decoder: strict for what Sluice forwarded (it must be clean), as
     * lenient as Netty is by default for what the client sent (the reference a forwarded request is compared to).
     */
    private static List<FullHttpRequest> parse(byte[] bytes, boolean strict) {
        HttpDecoderConfig config = new HttpDecoderConfig();
        EmbeddedChannel ch = new EmbeddedChannel(
                new HttpRequestDecoder(strict ? HttpFrontCodecs.strict(config) : config),
                new HttpObjectAggregator(1 << 20) {
                    @Override
                    protected Object newContinueResponse(HttpMessage start, int maxContentLength,
                                                         ChannelPipeline pipeline) {
                        return null; // a reader, not a server: an Expect header is just a header here
                    }
                });
        ch.writeInbound(Unpooled.wrappedBuffer(bytes));
        try {
            ch.finish();
        } catch (PrematureChannelClosureException cut) {
            // The last request is incomplete: only the complete ones before it count.
        }
        List<FullHttpRequest> out = new ArrayList<>();
        Object o;
        while ((o = ch.readInbound()) != null) {
            FullHttpRequest r = (FullHttpRequest) o;
            if (r.decoderResult().isFailure()) {
                assertThat(strict).as("a forwarded request Netty cannot read: %s", r.decoderResult()).isFalse();
                r.release();
                break;
            }
            out.add(r);
        }
        ch.finishAndReleaseAll();
        return out;
    }
}
