package io.sluice.net;

import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerFactory;
import io.netty.util.concurrent.ThreadAwareExecutor;
import java.util.function.UnaryOperator;

/**
 * A factory whose I/O handlers are another factory's, each wrapped as it is made: how Sluice adds to every event
 * loop's handler ({@link LoopGuard}, {@link HeavySteps}, {@link IoUringLoopTimer}, {@link EarlySubmit}, each a {@link ForwardingIoHandler}).
 */
record WrappedHandlers(IoHandlerFactory delegate, UnaryOperator<IoHandler> wrap) implements IoHandlerFactory {
    @Override
    public IoHandler newHandler(ThreadAwareExecutor executor) {
        return wrap.apply(delegate.newHandler(executor));
    }

    @Override
    public boolean isChangingThreadSupported() {
        return delegate.isChangingThreadSupported();
    }
}
