/* bft.h: the node's BFT engine (bft.c), used by node.c only. */
#ifndef CV_NODE_BFT_H
#define CV_NODE_BFT_H

#include <stddef.h>
#include <stdint.h>

#include "node/node.h"

typedef struct cv_node_bft cv_node_bft;

/* Starts the network, the consensus thread and the gossip admission thread. */
int cv_node_bft_start(cv_node *n, cv_node_bft **out);
void cv_node_bft_stop(cv_node_bft *b);
/* Sends the transactions with ok[i] == CV_OK to every peer. */
void cv_node_bft_gossip(cv_node_bft *b, const uint8_t *const *txs, const size_t *lens, const int *ok, size_t count);
uint64_t cv_node_bft_peers(cv_node_bft *b);

#endif
