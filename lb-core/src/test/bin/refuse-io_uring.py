"""Runs java (SLUICE_TEST_JAVA) the way Docker's (25.0+) and Podman's default seccomp profiles run a process:
io_uring's system calls fail with EPERM. Started by java-without-io_uring, with a Python that has seccomp.
The filter stays on across exec and is inherited by the processes the JVM starts.
"""
import errno
import os
import sys

import seccomp

java = os.environ["SLUICE_TEST_JAVA"]
args = sys.argv[1:]

rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
for call in ("io_uring_setup", "io_uring_enter", "io_uring_register"):
    rules.add_rule(seccomp.ERRNO(errno.EPERM), call)
rules.load()
os.execv(java, [java, "-Dsluice.test.seccomp=io_uring-refused"] + args)
