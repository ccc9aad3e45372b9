/* glibc networking headers first, so linux/libc-compat.h skips its own in6_addr. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_addr.h>
#include <linux/if_bridge.h>
#include <linux/veth.h>
#include <linux/neighbour.h>
#include <linux/net_namespace.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>

/* Swift cannot call variadic C functions (ioctl) and glibc only declares
   setns(2) under _GNU_SOURCE, so these two tiny wrappers exist. */
#define CMNL_CLONE_NEWNET 0x40000000

extern int setns(int fd, int nstype);

/* ioctl(NS_GET_NSTYPE): the CLONE_NEW* type of a namespace fd, or -1/errno. */
static inline int cmnl_ns_get_nstype(int fd) { return ioctl(fd, NS_GET_NSTYPE); }

/* setns(fd, CLONE_NEWNET) for the calling thread. */
static inline int cmnl_setns_net(int fd) { return setns(fd, CMNL_CLONE_NEWNET); }
