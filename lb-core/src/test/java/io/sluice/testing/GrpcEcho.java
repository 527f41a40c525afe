package io.sluice.testing;

import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * A small gRPC service for tests, described by hand (no protoc): messages are UTF-8 strings, one method of each
 * streaming kind. {@link GrpcTestServer} implements it.
 */
public final class GrpcEcho {
    public static final String SERVICE = "sluice.test.Echo";

    /** "echo:" + the request; see {@link GrpcTestServer} for requests that answer otherwise. */
    public static final MethodDescriptor<String, String> UNARY = method("Unary", MethodDescriptor.MethodType.UNARY);
    /** Each comma-separated part of the request as its own message. */
    public static final MethodDescriptor<String, String> SPLIT = method("Split",
            MethodDescriptor.MethodType.SERVER_STREAMING);
    /** One message: the requests joined with commas. */
    public static final MethodDescriptor<String, String> JOIN = method("Join",
            MethodDescriptor.MethodType.CLIENT_STREAMING);
    /** "echo:" + each request, as it comes. */
    public static final MethodDescriptor<String, String> CHAT = method("Chat",
            MethodDescriptor.MethodType.BIDI_STREAMING);

    private GrpcEcho() {
    }

    private static MethodDescriptor<String, String> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<String, String>newBuilder()
                .setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
                .setRequestMarshaller(Utf8Marshaller.INSTANCE)
                .setResponseMarshaller(Utf8Marshaller.INSTANCE)
                .build();
    }

    private enum Utf8Marshaller implements MethodDescriptor.Marshaller<String> {
        INSTANCE;

        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
