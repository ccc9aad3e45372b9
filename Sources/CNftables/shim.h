// libnftables, loaded on first use with dlopen.
//
// Only ADD/DEL/CHECK of a network with `ipMasq` need nftables. Linking the
// library would make every plugin run pay for loading it and its five
// dependencies (libnftnl, libxtables, libjansson, libgmp, ...) at exec time,
// a large share of a plugin's start-up; loading it on demand makes that cost
// fall only on the runs that use it. Types and constants come from the real
// header; the functions are resolved with dlsym.
#include <dlfcn.h>
#include <stddef.h>
#include <nftables/libnftables.h>

static inline void *hf_nft_library(void) {
    static void *handle;
    if (!handle) handle = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL);
    return handle;
}

static inline void *hf_nft_symbol(const char *name) {
    void *h = hf_nft_library();
    return h ? dlsym(h, name) : NULL;
}

/// NULL when libnftables is not installed (or lacks the symbol).
static inline struct nft_ctx *hf_nft_ctx_new(unsigned int flags) {
    struct nft_ctx *(*f)(unsigned int) = (struct nft_ctx *(*)(unsigned int))hf_nft_symbol("nft_ctx_new");
    return f ? f(flags) : NULL;
}

static inline void hf_nft_ctx_free(struct nft_ctx *ctx) {
    void (*f)(struct nft_ctx *) = (void (*)(struct nft_ctx *))hf_nft_symbol("nft_ctx_free");
    if (f) f(ctx);
}

static inline int hf_nft_ctx_buffer_output(struct nft_ctx *ctx) {
    int (*f)(struct nft_ctx *) = (int (*)(struct nft_ctx *))hf_nft_symbol("nft_ctx_buffer_output");
    return f ? f(ctx) : -1;
}

static inline int hf_nft_ctx_buffer_error(struct nft_ctx *ctx) {
    int (*f)(struct nft_ctx *) = (int (*)(struct nft_ctx *))hf_nft_symbol("nft_ctx_buffer_error");
    return f ? f(ctx) : -1;
}

static inline const char *hf_nft_ctx_get_error_buffer(struct nft_ctx *ctx) {
    const char *(*f)(struct nft_ctx *) = (const char *(*)(struct nft_ctx *))hf_nft_symbol("nft_ctx_get_error_buffer");
    return f ? f(ctx) : NULL;
}

static inline const char *hf_nft_ctx_get_output_buffer(struct nft_ctx *ctx) {
    const char *(*f)(struct nft_ctx *) = (const char *(*)(struct nft_ctx *))hf_nft_symbol("nft_ctx_get_output_buffer");
    return f ? f(ctx) : NULL;
}

static inline int hf_nft_run_cmd_from_buffer(struct nft_ctx *ctx, const char *buf) {
    int (*f)(struct nft_ctx *, const char *) = (int (*)(struct nft_ctx *, const char *))hf_nft_symbol("nft_run_cmd_from_buffer");
    return f ? f(ctx, buf) : -1;
}
