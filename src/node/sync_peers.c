/* sync_peers.c: whom a lagging node asks for blocks (see sync_peers.h). */
#include "node/sync_peers.h"

#include <assert.h>
#include <string.h>

void cv_sync_peers_init(cv_sync_peers *s)
{
    memset(s, 0, sizeof *s);
}

static int same_key(const cv_pubkey *a, const cv_pubkey *b)
{
    return a->suite == b->suite && a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

static cv_sync_claim *find(cv_sync_peers *s, const cv_pubkey *peer)
{
    for (size_t i = 0; i < s->n; i++)
        if (same_key(&s->c[i].key, peer))
            return &s->c[i];
    return NULL;
}

static cv_sync_claim *lowest(cv_sync_peers *s)
{
    assert(s->n > 0);
    cv_sync_claim *low = &s->c[0];
    for (size_t i = 1; i < s->n; i++)
        if (s->c[i].height < low->height)
            low = &s->c[i];
    return low;
}

void cv_sync_peers_claim(cv_sync_peers *s, const cv_pubkey *peer, uint64_t height)
{
    cv_sync_claim *c = find(s, peer);
    if (!c && s->n < CV_SYNC_PEERS_MAX)
        c = &s->c[s->n++];
    else if (!c && lowest(s)->height < height)
        c = lowest(s);
    if (!c)
        return;
    c->key = *peer;
    c->height = height;
}

void cv_sync_peers_refute(cv_sync_peers *s, const cv_pubkey *peer, uint64_t height)
{
    cv_sync_claim *c = find(s, peer);
    if (c && c->height > height)
        c->height = height;
}

int cv_sync_peers_pick(cv_sync_peers *s, uint64_t ours, cv_pubkey *peer, uint64_t *claimed)
{
    for (size_t k = 0; k < s->n; k++) {
        size_t i = (s->next + k) % s->n;
        if (s->c[i].height > ours) {
            *peer = s->c[i].key;
            *claimed = s->c[i].height;
            s->next = (i + 1) % s->n;
            return 1;
        }
    }
    return 0;
}

uint64_t cv_sync_peers_best(const cv_sync_peers *s)
{
    uint64_t best = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->c[i].height > best)
            best = s->c[i].height;
    return best;
}
