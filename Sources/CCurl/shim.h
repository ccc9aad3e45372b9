// libcurl, loaded on first use with dlopen, for the etcd client.
//
// Only cluster mode talks to etcd. Linking libcurl would make every plugin run
// pay for loading it and its dependencies (libssl, libcrypto, libnghttp2,
// libssh2, librtmp, libldap, ...) at exec time, although a node-local network
// never uses them; loading it on demand makes that cost fall only on the runs
// that talk to etcd. Types and constants come from the real header; the
// functions are resolved with dlsym. The request itself is one C function so
// the Swift side never deals with libcurl's variadic setopt/getinfo.
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

static inline void *hf_curl_library(void) {
    static void *handle;
    if (!handle) handle = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    return handle;
}

static inline void *hf_curl_symbol(const char *name) {
    void *h = hf_curl_library();
    return h ? dlsym(h, name) : NULL;
}

/// A growing response body.
struct hf_curl_buffer {
    char *data;
    size_t length;
    size_t capacity;
    size_t limit;
};

static size_t hf_curl_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
    struct hf_curl_buffer *b = (struct hf_curl_buffer *)userdata;
    size_t n = size * nmemb;
    if (b->length + n > b->limit) return 0;   /* makes libcurl fail with CURLE_WRITE_ERROR */
    if (b->length + n + 1 > b->capacity) {
        size_t cap = b->capacity ? b->capacity : 4096;
        while (cap < b->length + n + 1) cap *= 2;
        char *p = (char *)realloc(b->data, cap);
        if (!p) return 0;
        b->data = p;
        b->capacity = cap;
    }
    memcpy(b->data + b->length, ptr, n);
    b->length += n;
    b->data[b->length] = 0;
    return n;
}

/// Creates an easy handle; NULL when libcurl is not installed.
static inline CURL *hf_curl_easy_init(void) {
    static int initialised;
    if (!initialised) {
        CURLcode (*g)(long) = (CURLcode (*)(long))hf_curl_symbol("curl_global_init");
        if (!g || g(CURL_GLOBAL_DEFAULT) != CURLE_OK) return NULL;
        initialised = 1;
    }
    CURL *(*f)(void) = (CURL *(*)(void))hf_curl_symbol("curl_easy_init");
    return f ? f() : NULL;
}

static inline void hf_curl_easy_cleanup(CURL *h) {
    void (*f)(CURL *) = (void (*)(CURL *))hf_curl_symbol("curl_easy_cleanup");
    if (f) f(h);
}

static inline const char *hf_curl_strerror(CURLcode code) {
    const char *(*f)(CURLcode) = (const char *(*)(CURLcode))hf_curl_symbol("curl_easy_strerror");
    return f ? f(code) : "libcurl not loaded";
}

/// What one POST produced.
struct hf_curl_result {
    CURLcode code;
    long status;              /* HTTP status, 0 if no response */
    int request_sent;         /* 1 once the connection (and TLS) was up, so request bytes may have left */
    char error[CURL_ERROR_SIZE];
    struct hf_curl_buffer body;
};

static inline void hf_curl_result_free(struct hf_curl_result *r) {
    free(r->body.data);
    r->body.data = NULL;
    r->body.length = r->body.capacity = 0;
}

/// POSTs `body` (JSON) to `url` with a total deadline of `timeout_ms`.
/// TLS files may be NULL. The handle is reset first, so its connection cache
/// is reused but no option leaks from one request to the next.
static inline void hf_curl_post(CURL *h, const char *url, const char *body, long timeout_ms, long connect_timeout_ms,
                                const char *ca_file, const char *cert_file, const char *key_file,
                                size_t body_limit, struct hf_curl_result *r) {
    memset(r, 0, sizeof *r);
    r->body.limit = body_limit;
    void (*reset)(CURL *) = (void (*)(CURL *))hf_curl_symbol("curl_easy_reset");
    CURLcode (*setopt)(CURL *, CURLoption, ...) = (CURLcode (*)(CURL *, CURLoption, ...))hf_curl_symbol("curl_easy_setopt");
    CURLcode (*perform)(CURL *) = (CURLcode (*)(CURL *))hf_curl_symbol("curl_easy_perform");
    CURLcode (*getinfo)(CURL *, CURLINFO, ...) = (CURLcode (*)(CURL *, CURLINFO, ...))hf_curl_symbol("curl_easy_getinfo");
    struct curl_slist *(*append)(struct curl_slist *, const char *) =
        (struct curl_slist *(*)(struct curl_slist *, const char *))hf_curl_symbol("curl_slist_append");
    void (*slist_free)(struct curl_slist *) = (void (*)(struct curl_slist *))hf_curl_symbol("curl_slist_free_all");
    if (!reset || !setopt || !perform || !getinfo || !append || !slist_free) {
        r->code = CURLE_FAILED_INIT;
        strcpy(r->error, "libcurl.so.4 is missing a symbol");
        return;
    }
    reset(h);
    struct curl_slist *headers = append(NULL, "Content-Type: application/json");
    headers = append(headers, "Expect:");   /* no 100-continue round trip */
    setopt(h, CURLOPT_URL, url);
    setopt(h, CURLOPT_HTTPHEADER, headers);
    setopt(h, CURLOPT_POST, 1L);
    setopt(h, CURLOPT_POSTFIELDS, body);
    setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    setopt(h, CURLOPT_NOSIGNAL, 1L);
    setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    setopt(h, CURLOPT_PROXY, "");           /* never through an environment proxy */
    setopt(h, CURLOPT_ERRORBUFFER, r->error);
    setopt(h, CURLOPT_WRITEFUNCTION, hf_curl_write);
    setopt(h, CURLOPT_WRITEDATA, &r->body);
    if (ca_file) setopt(h, CURLOPT_CAINFO, ca_file);
    if (cert_file) setopt(h, CURLOPT_SSLCERT, cert_file);
    if (key_file) setopt(h, CURLOPT_SSLKEY, key_file);
    r->code = perform(h);
    getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    double pretransfer = 0;
    getinfo(h, CURLINFO_PRETRANSFER_TIME, &pretransfer);
    r->request_sent = pretransfer > 0 || r->status != 0;
    setopt(h, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
    slist_free(headers);
}
