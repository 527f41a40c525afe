package io.sluice.testing;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * In lb-core's {@code container-transport} pass, which runs the transport-bound tests a second time in a JVM
 * whose io_uring calls are refused (as Docker's and Podman's default seccomp profiles refuse them), so that
 * {@code auto} runs them on epoll: where the filter could not be set up (no python3-seccomp), running them again
 * on io_uring would prove nothing, so they are skipped and only {@code ContainerTransportTest} runs to say why.
 * Outside that pass (no {@value #PROPERTY}) this condition changes nothing.
 */
public final class ContainerTransportPass implements ExecutionCondition {
    /** Set by {@code lb-core/src/test/bin/java-without-io_uring}: {@code io_uring-refused} or {@code missing}. */
    public static final String PROPERTY = "sluice.test.seccomp";

    private static final String GUARD = "io.sluice.net.ContainerTransportTest";

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if (!"missing".equals(System.getProperty(PROPERTY))) {
            return ConditionEvaluationResult.enabled("not the container-transport pass, or its filter is on");
        }
        boolean guard = context.getTestClass().map(c -> c.getName().equals(GUARD)).orElse(false);
        return guard ? ConditionEvaluationResult.enabled("says why the pass did not run")
                : ConditionEvaluationResult.disabled("container-transport pass without its seccomp filter: install"
                        + " Debian's 'python3-seccomp' package (apt-get install -y python3-seccomp)");
    }
}
