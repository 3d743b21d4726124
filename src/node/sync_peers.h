/* sync_peers.h: whom a lagging node asks for blocks.
 *
 * Peers announce their committed height (STATUS); a node behind them asks
 * one for blocks. A Byzantine peer may claim any height and then serve
 * nothing, or blocks that fail their certificate check, so the node must
 * not keep asking the peer with the highest claim: each request goes to the
 * next peer, in turn, that claims to be ahead, and a peer whose answer shows
 * its claim false (nothing above our height, or a bad block) loses it until
 * it announces again. One honest peer ahead is then enough to catch up,
 * whatever the others claim. A pure data structure: no clock, no I/O. */
#ifndef CV_NODE_SYNC_PEERS_H
#define CV_NODE_SYNC_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/suite.h"

#define CV_SYNC_PEERS_MAX 256 /* the validators of two heights, at most */

typedef struct {
    cv_pubkey key;
    uint64_t height; /* its last claim */
} cv_sync_claim;

typedef struct {
    cv_sync_claim c[CV_SYNC_PEERS_MAX];
    size_t n;
    size_t next; /* where the next pick starts */
} cv_sync_peers;

void cv_sync_peers_init(cv_sync_peers *s);

/* A peer announced height. A new peer joins the table; when it is full, the
 * lowest claim makes room if it is lower than this one. */
void cv_sync_peers_claim(cv_sync_peers *s, const cv_pubkey *peer, uint64_t height);

/* The peer's answer showed it has nothing (valid) above height: its claim
 * drops to height. */
void cv_sync_peers_refute(cv_sync_peers *s, const cv_pubkey *peer, uint64_t height);

/* The next peer, in turn, that claims a height above ours: 1 and *peer (and
 * *claimed, its claim), or 0 if none does. */
int cv_sync_peers_pick(cv_sync_peers *s, uint64_t ours, cv_pubkey *peer, uint64_t *claimed);

/* The highest claim (0 if none): for progress messages. */
uint64_t cv_sync_peers_best(const cv_sync_peers *s);

#endif
