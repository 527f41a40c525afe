package io.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The grpc-timeout grammar: 1 to 8 digits and one of H M S m u n. */
class GrpcTimeoutTest {
    @Test
    void unitsAndLimits() {
        assertThat(GrpcTimeout.parse(null)).isEqualTo(GrpcTimeout.NONE);
        assertThat(GrpcTimeout.parse("1H")).isEqualTo(3_600_000_000_000L);
        assertThat(GrpcTimeout.parse("2M")).isEqualTo(120_000_000_000L);
        assertThat(GrpcTimeout.parse("3S")).isEqualTo(3_000_000_000L);
        assertThat(GrpcTimeout.parse("250m")).isEqualTo(250_000_000L);
        assertThat(GrpcTimeout.parse("7u")).isEqualTo(7_000L);
        assertThat(GrpcTimeout.parse("99999999n")).isEqualTo(99_999_999L);
        assertThat(GrpcTimeout.parse("0m")).isZero();
        assertThat(GrpcTimeout.parse("99999999H")).isEqualTo(Long.MAX_VALUE);
        for (String bad : new String[] {"", "m", "10", "123456789S", "1s", "-1S", "1 S", "1.5S", "S1"}) {
            assertThat(GrpcTimeout.parse(bad)).as(bad).isEqualTo(GrpcTimeout.MALFORMED);
        }
    }

    @Test
    void statusValuesAndContentTypes() {
        assertThat(GrpcStatus.parse("0")).isEqualTo(GrpcStatus.OK);
        assertThat(GrpcStatus.parse("16")).isEqualTo(GrpcStatus.UNAUTHENTICATED);
        assertThat(GrpcStatus.parse("17")).isEqualTo(GrpcStatus.UNKNOWN);
        assertThat(GrpcStatus.parse("x")).isEqualTo(GrpcStatus.UNKNOWN);
        assertThat(GrpcStatus.forHttpStatus(404)).isEqualTo(GrpcStatus.UNIMPLEMENTED);
        assertThat(Grpc.percentEncode("100% é")).isEqualTo("100%25 %C3%A9");
        io.netty.handler.codec.http.HttpHeaders h = new io.netty.handler.codec.http.DefaultHttpHeaders();
        for (String yes : new String[] {"application/grpc", "application/grpc+proto", "Application/GRPC;x=1"}) {
            assertThat(Grpc.isGrpc(h.set("content-type", yes))).as(yes).isTrue();
        }
        for (String no : new String[] {"application/grpc-web", "application/json", "application/grp"}) {
            assertThat(Grpc.isGrpc(h.set("content-type", no))).as(no).isFalse();
        }
    }
}
