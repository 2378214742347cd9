#ifndef RTU104D_COPENSSL_SHIM_H
#define RTU104D_COPENSSL_SHIM_H

// OpenSSL 3 for rtu104d's TLS module (the only importer). Macros that do not import into Swift
// (SSL_CTX_set_min_proto_version, BIO_pending, SSL_OP_* bits, ...) are wrapped as static inline
// functions; the certificate verify callback is written in C so that no Swift closure crosses into
// OpenSSL's verification path.

#include <stdint.h>
#include <string.h>
#include <time.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/evp.h>

// MARK: protocol versions and options

static inline int rtu104d_tls1_2_version(void) { return TLS1_2_VERSION; }
static inline int rtu104d_tls1_3_version(void) { return TLS1_3_VERSION; }

static inline int rtu104d_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int rtu104d_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}

/// No compression (CRIME), the server's cipher order, no insecure (pre-RFC 5746) renegotiation and no
/// client-initiated renegotiation (a server refuses it with a no_renegotiation alert). A server may still
/// renegotiate itself (IEC 62351-3 session key renewal), and a client follows a server's HelloRequest.
/// Plaintext held back during a renegotiation is retried from a different address, hence the moving buffer.
static inline void rtu104d_SSL_CTX_harden(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE
                             | SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1);
    SSL_CTX_clear_options(ctx, SSL_OP_ALLOW_CLIENT_RENEGOTIATION | SSL_OP_LEGACY_SERVER_CONNECT
                               | SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/// The peer announced RFC 5746 secure renegotiation in its hello (TLS 1.2).
static inline int rtu104d_SSL_secure_renegotiation_support(SSL *ssl) {
    return (int)SSL_get_secure_renegotiation_support(ssl);
}

static inline int rtu104d_SSL_key_update_requested(void) { return SSL_KEY_UPDATE_REQUESTED; }

/// Session resumption: a server-side cache and session tickets (TLS 1.2 and 1.3), or neither.
static inline void rtu104d_SSL_CTX_set_resumption(SSL_CTX *ctx, int enabled) {
    if (enabled) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx, 2);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx, 0);
    }
}

static inline int rtu104d_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *list) {
    return (int)SSL_CTX_set1_groups_list(ctx, list);
}

static inline int rtu104d_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline int rtu104d_SSL_session_reused(SSL *ssl) { return SSL_session_reused(ssl); }

// MARK: memory BIOs

static inline size_t rtu104d_BIO_pending(BIO *bio) { return (size_t)BIO_pending(bio); }

/// An empty memory BIO reads as "retry later", not as end of file.
static inline void rtu104d_BIO_set_mem_eof_return(BIO *bio, int value) { (void)BIO_set_mem_eof_return(bio, value); }

// MARK: errors

/// The oldest queued OpenSSL error as text ("" when none), and clears the queue.
static inline void rtu104d_drain_errors(char *buffer, size_t length) {
    unsigned long code = ERR_get_error();
    if (length > 0) buffer[0] = 0;
    if (code != 0 && length > 0) ERR_error_string_n(code, buffer, length);
    ERR_clear_error();
}

// MARK: certificates

/// A certificate's subject as RFC 2253 text (CN=…,O=…), or "" when it has none.
static inline void rtu104d_X509_subject(X509 *cert, char *buffer, size_t length) {
    if (length == 0) return;
    buffer[0] = 0;
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) return;
    if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
        int read = BIO_read(bio, buffer, (int)(length - 1));
        buffer[read > 0 ? read : 0] = 0;
    }
    BIO_free(bio);
}

/// The subject alternative names as "DNS:a\nIP:10.0.0.1\nURI:…\nemail:…" ("" when none).
static inline void rtu104d_X509_subject_alt_names(X509 *cert, char *buffer, size_t length) {
    if (length == 0) return;
    buffer[0] = 0;
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    if (names == NULL) return;
    size_t used = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
        char item[300];
        item[0] = 0;
        if (name->type == GEN_DNS || name->type == GEN_URI || name->type == GEN_EMAIL) {
            const char *prefix = name->type == GEN_DNS ? "DNS" : (name->type == GEN_URI ? "URI" : "email");
            ASN1_IA5STRING *text = name->d.ia5;
            snprintf(item, sizeof item, "%s:%.*s", prefix, text->length < 250 ? text->length : 250, (const char *)text->data);
        } else if (name->type == GEN_IPADD) {
            ASN1_OCTET_STRING *ip = name->d.iPAddress;
            if (ip->length == 4) {
                snprintf(item, sizeof item, "IP:%u.%u.%u.%u", ip->data[0], ip->data[1], ip->data[2], ip->data[3]);
            } else if (ip->length == 16) {
                int at = snprintf(item, sizeof item, "IP:");
                for (int j = 0; j < 16; j += 2) {
                    at += snprintf(item + at, sizeof item - at, "%s%x", j ? ":" : "", (ip->data[j] << 8) | ip->data[j + 1]);
                }
            }
        }
        size_t itemLength = strlen(item);
        if (itemLength == 0 || used + itemLength + 2 > length) continue;
        if (used > 0) buffer[used++] = '\n';
        memcpy(buffer + used, item, itemLength);
        used += itemLength;
        buffer[used] = 0;
    }
    GENERAL_NAMES_free(names);
}

/// Seconds since 1970 of an ASN1 time, or INT64_MIN when it cannot be read.
static inline int64_t rtu104d_ASN1_TIME_unix(const ASN1_TIME *time) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (time == NULL || ASN1_TIME_to_tm(time, &tm) != 1) return INT64_MIN;
    return (int64_t)timegm(&tm);
}

static inline int64_t rtu104d_X509_not_after(X509 *cert) { return rtu104d_ASN1_TIME_unix(X509_get0_notAfter(cert)); }
static inline int64_t rtu104d_X509_not_before(X509 *cert) { return rtu104d_ASN1_TIME_unix(X509_get0_notBefore(cert)); }

/// SHA-256 of the DER certificate into `digest` (32 octets). Returns 1 on success.
static inline int rtu104d_X509_sha256(X509 *cert, unsigned char *digest) {
    unsigned int length = 32;
    return X509_digest(cert, EVP_sha256(), digest, &length) == 1 && length == 32;
}

// MARK: peer verification

/// Per-connection verification state, owned by the Swift session and hung on the SSL as its app data.
typedef struct {
    /// Inputs (from the listener's settings).
    const unsigned char *pins;   // `pin_count` SHA-256 digests of allowed peer certificates, 32 octets each
    int pin_count;
    int pins_only;               // no CA bundle: pinned certificates are trusted without a chain
    /// Outputs.
    int error;                   // X509_V_ERR_* of the first failure, 0 when none
    int error_depth;
    int not_pinned;              // the leaf verified but is not on the allow-list
    char subject[512];           // the leaf's subject (depth 0), "" until seen
} rtu104d_verify_state;

static inline void rtu104d_SSL_set_verify_state(SSL *ssl, rtu104d_verify_state *state) {
    SSL_set_app_data(ssl, state);
}

static inline int rtu104d_verify_callback(int ok, X509_STORE_CTX *store) {
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    rtu104d_verify_state *state = ssl ? (rtu104d_verify_state *)SSL_get_app_data(ssl) : NULL;
    if (state == NULL) return ok;
    int depth = X509_STORE_CTX_get_error_depth(store);
    X509 *cert = X509_STORE_CTX_get_current_cert(store);
    if (depth == 0 && cert != NULL) rtu104d_X509_subject(cert, state->subject, sizeof state->subject);
    if (!ok) {
        int error = X509_STORE_CTX_get_error(store);
        // With pinning and no CA bundle, the pin is the trust anchor: an unknown issuer is fine,
        // an expired or malformed certificate is not.
        int untrusted_issuer = error == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
            || error == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
            || error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
            || error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
            || error == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
            || error == X509_V_ERR_CERT_UNTRUSTED;
        if (state->pins_only && untrusted_issuer) {
            ok = 1;
        } else {
            if (state->error == 0) { state->error = error; state->error_depth = depth; }
            return 0;
        }
    }
    if (depth == 0 && state->pin_count > 0 && cert != NULL) {
        unsigned char digest[32];
        int found = 0;
        if (rtu104d_X509_sha256(cert, digest)) {
            for (int i = 0; i < state->pin_count; i++) {
                if (memcmp(state->pins + 32 * i, digest, 32) == 0) { found = 1; break; }
            }
        }
        if (!found) {
            state->not_pinned = 1;
            if (state->error == 0) { state->error = X509_V_ERR_APPLICATION_VERIFICATION; state->error_depth = 0; }
            X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
            return 0;
        }
    }
    return ok;
}

/// Verify the peer with the callback above; `require` also fails a handshake without a peer certificate.
static inline void rtu104d_SSL_CTX_set_verify(SSL_CTX *ctx, int verify, int require) {
    int mode = verify ? (SSL_VERIFY_PEER | (require ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0)) : SSL_VERIFY_NONE;
    SSL_CTX_set_verify(ctx, mode, verify ? rtu104d_verify_callback : NULL);
}

/// Revocation: every CRL in the PEM file is added to the store, checked for the whole chain.
/// Returns the number of CRLs loaded, 0 when none could be read.
static inline int rtu104d_SSL_CTX_load_crl_file(SSL_CTX *ctx, const char *path) {
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
    if (lookup == NULL) return 0;
    int count = X509_load_crl_file(lookup, path, X509_FILETYPE_PEM);
    if (count <= 0) return 0;
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    return count;
}

/// Trust anchors for verifying peers; returns 1 on success.
static inline int rtu104d_SSL_CTX_load_ca_file(SSL_CTX *ctx, const char *path) {
    return SSL_CTX_load_verify_locations(ctx, path, NULL);
}

/// The CA bundle's subjects are sent in the CertificateRequest (which certificates the peer should pick).
static inline void rtu104d_SSL_CTX_set_client_ca_file(SSL_CTX *ctx, const char *path) {
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(path);
    if (names != NULL) SSL_CTX_set_client_CA_list(ctx, names);
}

/// The leaf certificate this context presents (no reference taken), or NULL.
static inline X509 *rtu104d_SSL_CTX_certificate(SSL_CTX *ctx) { return SSL_CTX_get0_certificate(ctx); }

#endif
