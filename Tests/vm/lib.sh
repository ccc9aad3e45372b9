# Sourced by the guest init before each case (see Tests/vm/README.md).
# Debian's busybox-static runs its own applets before anything on PATH, so
# `ip` would be busybox's (no netns, no -j); these functions pin the real
# tools. Functions win over applets.
ip() { /sbin/ip "$@"; }
