/* test_sync_peers.c: whom a lagging node asks for blocks (node/sync_peers.h):
 * peers ahead are asked in turn, a liar whose claim is refuted is skipped
 * until it announces again, the table is bounded, and one honest peer ahead
 * is always found whatever the others claim. */
#include <string.h>

#include "check.h"
#include "node/sync_peers.h"

static cv_pubkey key_of(int i)
{
    cv_pubkey k;
    memset(&k, 0, sizeof k);
    k.suite = CV_SUITE_STD;
    k.len = 32;
    k.bytes[0] = (uint8_t)i;
    k.bytes[1] = (uint8_t)(i >> 8);
    return k;
}

static int is_key(const cv_pubkey *k, int i)
{
    cv_pubkey want = key_of(i);
    return k->len == want.len && memcmp(k->bytes, want.bytes, want.len) == 0;
}

static void test_rotation(void)
{
    cv_sync_peers s;
    cv_pubkey p;
    uint64_t claimed;
    cv_sync_peers_init(&s);
    CHECK(!cv_sync_peers_pick(&s, 0, &p, &claimed));
    cv_pubkey liar = key_of(1), honest = key_of(2), behind = key_of(3);
    cv_sync_peers_claim(&s, &liar, 1000000000);
    cv_sync_peers_claim(&s, &honest, 50);
    cv_sync_peers_claim(&s, &behind, 10);
    CHECK(cv_sync_peers_best(&s) == 1000000000);
    /* At 20, the liar and the honest peer are ahead: asked in turn. */
    int asked_liar = 0, asked_honest = 0;
    for (int i = 0; i < 6; i++) {
        CHECK(cv_sync_peers_pick(&s, 20, &p, &claimed));
        CHECK(!is_key(&p, 3));
        asked_liar += is_key(&p, 1);
        asked_honest += is_key(&p, 2) && claimed == 50;
    }
    CHECK(asked_liar == 3 && asked_honest == 3);
    /* The liar served nothing above 20: only the honest peer is asked. */
    cv_sync_peers_refute(&s, &liar, 20);
    for (int i = 0; i < 4; i++) {
        CHECK(cv_sync_peers_pick(&s, 20, &p, &claimed));
        CHECK(is_key(&p, 2));
    }
    /* A refutation never raises a claim; a new announcement replaces it. */
    cv_sync_peers_refute(&s, &honest, 60);
    CHECK(cv_sync_peers_pick(&s, 49, &p, &claimed) && is_key(&p, 2) && claimed == 50);
    CHECK(!cv_sync_peers_pick(&s, 50, &p, &claimed));
    cv_sync_peers_claim(&s, &liar, 70);
    CHECK(cv_sync_peers_pick(&s, 50, &p, &claimed) && is_key(&p, 1) && claimed == 70);
}

/* The table holds CV_SYNC_PEERS_MAX peers; a higher claim evicts the lowest. */
static void test_bounded(void)
{
    cv_sync_peers s;
    cv_pubkey p;
    uint64_t claimed;
    cv_sync_peers_init(&s);
    for (int i = 0; i < CV_SYNC_PEERS_MAX; i++) {
        cv_pubkey k = key_of(100 + i);
        cv_sync_peers_claim(&s, &k, 5);
    }
    CHECK(s.n == CV_SYNC_PEERS_MAX);
    cv_pubkey low = key_of(5000), high = key_of(5001);
    cv_sync_peers_claim(&s, &low, 1); /* lower than every claim: not kept */
    CHECK(s.n == CV_SYNC_PEERS_MAX);
    cv_sync_peers_claim(&s, &high, 9);
    CHECK(s.n == CV_SYNC_PEERS_MAX && cv_sync_peers_best(&s) == 9);
    CHECK(cv_sync_peers_pick(&s, 5, &p, &claimed) && is_key(&p, 5001) && claimed == 9);
}

int main(void)
{
    test_rotation();
    test_bounded();
    return check_done();
}
