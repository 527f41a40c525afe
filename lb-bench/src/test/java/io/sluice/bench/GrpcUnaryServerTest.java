package io.sluice.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.Channel;
import io.sluice.testing.ExternalTool;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The load comparison's gRPC server answers a unary call as a gRPC client expects, checked with curl over h2c. */
class GrpcUnaryServerTest {

    @Test
    void answersAnyUnaryCallWithOneMessageAndGrpcStatusZero(@TempDir Path dir) throws Exception {
        ExternalTool curl = ExternalTool.require("curl", "curl");
        Path request = Files.write(dir.resolve("request.bin"), new byte[] {0, 0, 0, 0, 7, 0x0a, 5, 'h', 'e', 'l', 'l', 'o'});
        Path response = dir.resolve("response.bin");
        List<Channel> server = GrpcUnaryServer.start(0);
        try {
            int port = ((InetSocketAddress) server.get(0).localAddress()).getPort();
            ExternalTool.Run call = curl.run("", "-sS", "-v", "--http2-prior-knowledge", "-H",
                    "content-type: application/grpc", "-H", "te: trailers", "--data-binary", "@" + request,
                    "-o", response.toString(), "http://127.0.0.1:" + port + "/echo.Echo/Unary");

            assertThat(call.code()).as(call.output()).isZero();
            assertThat(call.output()).contains("< HTTP/2 200", "< content-type: application/grpc", "< grpc-status: 0");
            byte[] body = Files.readAllBytes(response);
            assertThat(body).hasSize(64);
            assertThat(body[0]).as("not compressed").isZero();
            assertThat(((body[1] & 0xff) << 24) | ((body[2] & 0xff) << 16) | ((body[3] & 0xff) << 8) | (body[4] & 0xff))
                    .as("length prefix").isEqualTo(GrpcUnaryServer.MESSAGE_SIZE);
        } finally {
            server.forEach(Channel::close);
        }
    }
}
