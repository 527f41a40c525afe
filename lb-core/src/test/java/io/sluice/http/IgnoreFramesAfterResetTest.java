package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.DefaultHttp2ConnectionEncoder;
import io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.netty.handler.codec.http2.Http2Stream;
import org.junit.jupiter.api.Test;

/**
 * What {@link IgnoreFramesAfterReset} remembers: streams this side reset, the last of them, twice as many as the
 * peer may have open at once.
 */
class IgnoreFramesAfterResetTest {
    @Test
    void remembersOnlyTheLastStreamsItResetAndNoneThatEndedNormally() throws Exception {
        DefaultHttp2Connection connection = new DefaultHttp2Connection(true);
        connection.remote().maxActiveStreams(10);
        IgnoreFramesAfterReset encoder = new IgnoreFramesAfterReset(
                new DefaultHttp2ConnectionEncoder(connection, new DefaultHttp2FrameWriter()));

        Http2Stream normal = connection.remote().createStream(1, false);
        normal.close();
        int first = 3;
        int last = first + 2 * IgnoreFramesAfterReset.MIN_REMEMBERED;
        for (int id = first; id <= last; id += 2) {
            Http2Stream s = connection.remote().createStream(id, false);
            s.resetSent();
            s.close();
        }

        assertThat(encoder.wasReset(1)).as("ended normally").isFalse();
        assertThat(encoder.wasReset(first)).as("one reset too many ago").isFalse();
        assertThat(encoder.wasReset(first + 2)).isTrue();
        assertThat(encoder.wasReset(last)).isTrue();
        assertThat(encoder.wasReset(last + 2)).as("never opened").isFalse();
    }

    @Test
    void remembersTwiceTheStreamsAClientMayHaveOpen() throws Exception {
        DefaultHttp2Connection connection = new DefaultHttp2Connection(true);
        connection.remote().maxActiveStreams(1000);
        IgnoreFramesAfterReset encoder = new IgnoreFramesAfterReset(
                new DefaultHttp2ConnectionEncoder(connection, new DefaultHttp2FrameWriter()));
        assertThat(encoder.capacity()).isEqualTo(2000);

        connection.remote().maxActiveStreams(Integer.MAX_VALUE);
        assertThat(encoder.capacity()).as("no limit").isEqualTo(2 * IgnoreFramesAfterReset.MAX_OPEN);
    }

    @Test
    void onAServersConnectionRemembersTwiceTheStreamsSluiceOpens() throws Exception {
        DefaultHttp2Connection connection = new DefaultHttp2Connection(false);
        IgnoreFramesAfterReset encoder = new IgnoreFramesAfterReset(
                new DefaultHttp2ConnectionEncoder(connection, new DefaultHttp2FrameWriter()));
        assertThat(encoder.capacity()).isEqualTo(2 * Http2Pool.MAX_STREAMS_PER_CONNECTION);
    }
}
