/* sim_net.c: the simulator's random numbers, event queue and network.
 *
 * Events are ordered by (time, sequence number): the sequence number breaks
 * ties in the order events were scheduled, so a run depends on nothing but
 * its seed. The network delivers each message after a random delay (which
 * reorders messages), within a range of its own for each directed link;
 * while faults are on it also loses messages (at each link's own rate),
 * duplicates and sometimes greatly delays them, and drops those crossing a
 * partition at delivery time. */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* ---- random numbers ----------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void sim_rng_seed(sim_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sim_rand(sim_rng *r)
{
    uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

uint64_t sim_below(sim_rng *r, uint64_t n) { return sim_rand(r) % n; }

uint64_t sim_range(sim_rng *r, uint64_t lo, uint64_t hi) { return lo + sim_below(r, hi - lo + 1); }

int sim_chance(sim_rng *r, unsigned permille) { return sim_below(r, 1000) < permille; }

/* ---- the event queue: a binary min-heap on (time, seq) ----------------------------- */

static int before(const sim_event *a, const sim_event *b)
{
    return a->time != b->time ? a->time < b->time : a->seq < b->seq;
}

static void swap(sim_event *a, sim_event *b)
{
    sim_event t = *a;
    *a = *b;
    *b = t;
}

void sim_push(sim_world *w, sim_event ev)
{
    sim_heap *h = &w->heap;
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 1024;
        sim_event *v = realloc(h->v, cap * sizeof *v);
        if (!v) {
            free(ev.data);
            sim_fail(w, 0, "out of memory in the event queue");
            return;
        }
        h->v = v;
        h->cap = cap;
    }
    ev.seq = h->seq++;
    size_t i = h->n++;
    h->v[i] = ev;
    while (i > 0 && before(&h->v[i], &h->v[(i - 1) / 2])) {
        swap(&h->v[i], &h->v[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
}

int sim_pop(sim_world *w, sim_event *ev)
{
    sim_heap *h = &w->heap;
    if (h->n == 0)
        return 0;
    *ev = h->v[0];
    h->v[0] = h->v[--h->n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && before(&h->v[l], &h->v[m]))
            m = l;
        if (r < h->n && before(&h->v[r], &h->v[m]))
            m = r;
        if (m == i)
            break;
        swap(&h->v[i], &h->v[m]);
        i = m;
    }
    return 1;
}

void sim_heap_free(sim_heap *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->v[i].data);
    free(h->v);
    memset(h, 0, sizeof *h);
}

/* ---- the network ------------------------------------------------------------------- */

int sim_linked(const sim_world *w, int a, int b)
{
    if (!w->partition)
        return 1;
    return ((w->partition >> a) & 1) == ((w->partition >> b) & 1);
}

static uint64_t delay(sim_world *w, int from, int to)
{
    uint64_t d = sim_range(&w->rng, w->delay_min, w->link_delay[from][to]);
    if (w->faults && sim_chance(&w->rng, w->spike))
        d += sim_range(&w->rng, 200, 1500); /* a slow link, or a long GC pause */
    return d;
}

static void deliver_later(sim_world *w, int from, int to, sim_msg_kind kind, const uint8_t *p, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        sim_fail(w, 0, "out of memory sending a message");
        return;
    }
    memcpy(copy, p, len);
    sim_push(w, (sim_event){.time = w->now + delay(w, from, to), .kind = EV_DELIVER, .node = to, .from = from,
                            .msg = kind, .data = copy, .len = len});
}

void sim_send(sim_world *w, int from, int to, sim_msg_kind kind, const uint8_t *p, size_t len)
{
    w->messages++;
    if (w->faults && sim_chance(&w->rng, w->link_loss[from][to]))
        return;
    deliver_later(w, from, to, kind, p, len);
    if (w->faults && sim_chance(&w->rng, w->dup))
        deliver_later(w, from, to, kind, p, len);
}

void sim_broadcast(sim_world *w, int from, sim_msg_kind kind, const uint8_t *p, size_t len)
{
    for (int to = 0; to < w->n; to++)
        if (to != from)
            sim_send(w, from, to, kind, p, len);
}
