#ifndef HOLDFAST_CMNLLAZY_H
#define HOLDFAST_CMNLLAZY_H

/// The libmnl functions Holdfast calls, defined here as forwarders to
/// libmnl.so.0, which is dlopen()ed on the first call (see CMnlLazy.c for why).
/// Nothing includes this header to use them: the declarations come from
/// <libmnl/libmnl.h> through CMnl; linking this target is what provides them.

/// Loads libmnl.so.0 and resolves every forwarded function, once. 0 when
/// loaded; -1 when it cannot be (the error is then in
/// `holdfast_mnl_load_error`). The socket-opening forwarder fails with
/// ELIBACC then; the others (message building can come before any socket)
/// stop the process with the reason on stderr, since they have nothing to
/// return. KernelNetlinkTransport calls this before opening its socket.
int holdfast_mnl_load(void);

/// dlerror()'s text for a failed load; NULL when the load succeeded or was not tried.
const char *holdfast_mnl_load_error(void);

#endif
