// libmnl, loaded on first use.
//
// holdfast-ipam, ipamctl and the watchdog need netlink only off their steady
// path (reconcile, inventory), yet linking libmnl made every run of them pay
// for the loader mapping it, applying its relocations and binding its
// symbols before main: about 36 of a holdfast-ipam run's 180 symbol lookups
// and 8 page faults. Same approach as libnftables and libcurl (CNftables,
// CCurl), but here the call sites keep libmnl's own names: this file defines
// the 28 functions Holdfast uses, each forwarding to the library's through a
// table filled by one dlopen. The bridge plugin, which always uses netlink,
// pays the same load a little later. The table is filled once, under
// pthread_once.
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <libmnl/libmnl.h>
#include "CMnlLazy.h"

#define HF_MNL_VALUE_FUNCTIONS(X) \
    X(void *, mnl_attr_get_payload, (const struct nlattr *attr), (attr)) \
    X(uint16_t, mnl_attr_get_payload_len, (const struct nlattr *attr), (attr)) \
    X(uint16_t, mnl_attr_get_type, (const struct nlattr *attr), (attr)) \
    X(struct nlattr *, mnl_attr_nest_start, (struct nlmsghdr *nlh, uint16_t type), (nlh, type)) \
    X(int, mnl_attr_parse, (const struct nlmsghdr *nlh, unsigned int offset, mnl_attr_cb_t cb, void *data), (nlh, offset, cb, data)) \
    X(int, mnl_attr_parse_nested, (const struct nlattr *attr, mnl_attr_cb_t cb, void *data), (attr, cb, data)) \
    X(int, mnl_attr_parse_payload, (const void *payload, size_t payload_len, mnl_attr_cb_t cb, void *data), (payload, payload_len, cb, data)) \
    X(int, mnl_cb_run2, (const void *buf, size_t numbytes, unsigned int seq, unsigned int portid, mnl_cb_t cb_data, \
                         void *data, mnl_cb_t *cb_ctl_array, unsigned int cb_ctl_array_len), \
      (buf, numbytes, seq, portid, cb_data, data, cb_ctl_array, cb_ctl_array_len)) \
    X(void *, mnl_nlmsg_get_payload, (const struct nlmsghdr *nlh), (nlh)) \
    X(void *, mnl_nlmsg_get_payload_tail, (const struct nlmsghdr *nlh), (nlh)) \
    X(struct nlmsghdr *, mnl_nlmsg_next, (const struct nlmsghdr *nlh, int *len), (nlh, len)) \
    X(bool, mnl_nlmsg_ok, (const struct nlmsghdr *nlh, int len), (nlh, len)) \
    X(void *, mnl_nlmsg_put_extra_header, (struct nlmsghdr *nlh, size_t size), (nlh, size)) \
    X(struct nlmsghdr *, mnl_nlmsg_put_header, (void *buf), (buf)) \
    X(int, mnl_socket_bind, (struct mnl_socket *nl, unsigned int groups, pid_t pid), (nl, groups, pid)) \
    X(int, mnl_socket_close, (struct mnl_socket *nl), (nl)) \
    X(int, mnl_socket_get_fd, (const struct mnl_socket *nl), (nl)) \
    X(unsigned int, mnl_socket_get_portid, (const struct mnl_socket *nl), (nl)) \
    X(ssize_t, mnl_socket_recvfrom, (const struct mnl_socket *nl, void *buf, size_t siz), (nl, buf, siz)) \
    X(ssize_t, mnl_socket_sendto, (const struct mnl_socket *nl, const void *req, size_t siz), (nl, req, siz)) \
    X(int, mnl_socket_setsockopt, (const struct mnl_socket *nl, int type, void *buf, socklen_t len), (nl, type, buf, len))

#define HF_MNL_VOID_FUNCTIONS(X) \
    X(void, mnl_attr_nest_end, (struct nlmsghdr *nlh, struct nlattr *start), (nlh, start)) \
    X(void, mnl_attr_put, (struct nlmsghdr *nlh, uint16_t type, size_t len, const void *data), (nlh, type, len, data)) \
    X(void, mnl_attr_put_strz, (struct nlmsghdr *nlh, uint16_t type, const char *data), (nlh, type, data)) \
    X(void, mnl_attr_put_u16, (struct nlmsghdr *nlh, uint16_t type, uint16_t data), (nlh, type, data)) \
    X(void, mnl_attr_put_u32, (struct nlmsghdr *nlh, uint16_t type, uint32_t data), (nlh, type, data)) \
    X(void, mnl_attr_put_u8, (struct nlmsghdr *nlh, uint16_t type, uint8_t data), (nlh, type, data))

static struct {
#define HF_FIELD(ret, name, params, args) ret (*name) params;
    HF_MNL_VALUE_FUNCTIONS(HF_FIELD)
    HF_MNL_VOID_FUNCTIONS(HF_FIELD)
#undef HF_FIELD
    struct mnl_socket *(*mnl_socket_open2)(int bus, int flags);
} table;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_status = -1;
static const char *load_error;
static char load_error_text[256];

static void load(void) {
    void *handle = dlopen("libmnl.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        snprintf(load_error_text, sizeof load_error_text, "%s", dlerror());
        load_error = load_error_text;
        return;
    }
#define HF_RESOLVE(ret, name, params, args) \
    if (!(*(void **)&table.name = dlsym(handle, #name))) goto missing;
    HF_MNL_VALUE_FUNCTIONS(HF_RESOLVE)
    HF_MNL_VOID_FUNCTIONS(HF_RESOLVE)
    HF_RESOLVE(struct mnl_socket *, mnl_socket_open2, (int, int), ())
#undef HF_RESOLVE
    load_status = 0;
    return;
missing:
    snprintf(load_error_text, sizeof load_error_text, "libmnl.so.0 lacks a function Holdfast needs: %s", dlerror());
    load_error = load_error_text;
}

int holdfast_mnl_load(void) {
    pthread_once(&load_once, load);
    return load_status;
}

const char *holdfast_mnl_load_error(void) {
    return load_error;
}

// Sockets are opened through mnl_socket_open2, which reports a failed load
// as ELIBACC (KernelNetlinkTransport names the loader's error). Building a
// message needs no socket, so these can come first; without libmnl (a broken
// install: the package depends on libmnl0, and before this file the loader
// refused to start the binary at all) there is nothing they can return: say
// why on stderr and stop.
static void require_loaded(const char *name) {
    if (holdfast_mnl_load() == 0) return;
    fprintf(stderr, "holdfast: %s called without libmnl: %s\n", name, load_error ? load_error : "not loaded");
    abort();
}

#define HF_FORWARD(ret, name, params, args) \
    ret name params { require_loaded(#name); return table.name args; }
HF_MNL_VALUE_FUNCTIONS(HF_FORWARD)
#undef HF_FORWARD
#define HF_FORWARD_VOID(ret, name, params, args) \
    void name params { require_loaded(#name); table.name args; }
HF_MNL_VOID_FUNCTIONS(HF_FORWARD_VOID)
#undef HF_FORWARD_VOID

struct mnl_socket *mnl_socket_open2(int bus, int flags) {
    if (holdfast_mnl_load() != 0) { errno = ELIBACC; return NULL; }
    return table.mnl_socket_open2(bus, flags);
}
