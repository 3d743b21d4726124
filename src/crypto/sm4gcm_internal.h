/* sm4gcm_internal.h: what sm4gcm.c shows beyond impl.h: its set-up, called by
 * cv_crypto_init and cv_crypto_cleanup, and GHASH with a chosen
 * implementation, so that tests/unit/test_sm4gcm.c can check the fast and the
 * portable one against each other on any machine that has the fast one. */
#ifndef CV_CRYPTO_SM4GCM_INTERNAL_H
#define CV_CRYPTO_SM4GCM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Fetches SM4-ECB and selects the fastest GHASH this CPU can run. */
int cv_sm4gcm_init(void);
void cv_sm4gcm_cleanup(void);

typedef enum {
    CV_GHASH_PORTABLE = 0, /* Shoup's 4-bit tables: any CPU */
    CV_GHASH_CLMUL = 1,    /* PCLMULQDQ, 4 blocks per reduction: x86-64 CPUs that have it */
} cv_ghash_impl;

/* 1 if impl can run on this machine, 0 if not. */
int cv_ghash_available(cv_ghash_impl impl);
/* Makes cv_sm4gcm_seal/open use impl until the next call or cv_crypto_init
 * (which selects the fastest); CV_EINVAL if impl cannot run here. Not
 * thread-safe: for tests, before any other thread seals or opens. */
int cv_ghash_use(cv_ghash_impl impl);
/* GHASH_H (SP 800-38D 6.4) continued from the value y over p[len], the last
 * partial block padded with zeros; CV_EINVAL if impl cannot run here. */
int cv_ghash(cv_ghash_impl impl, const uint8_t h[16], uint8_t y[16], const void *p, size_t len);

#endif
