/* sim.c: the deterministic consensus simulator: command line, scenarios,
 * the run loop and the invariants (see sim.h for the other files).
 *
 *   sim --seeds 1000 [--first 1]   run seeds 1 .. 1000; stop at the first failure
 *   sim --seed 12345 --verbose     replay one seed, printing every step
 *   sim --long --seeds 200         larger networks, longer fault phases
 *   sim --mutate lock --seeds 300 --expect-violation
 *       run engines with the lock rule broken (or, --mutate amnesia, with
 *       nodes that forget their record on a crash) and succeed only if the
 *       simulator catches a safety violation: the checker has teeth.
 *
 * Each seed draws a scenario: 4, 5 or 7 validators (10 with --long) with
 * equal or mixed voting power; Byzantine validators holding less than a
 * third of it, each with a random set of misbehaviours (sim_byz.c); a fault
 * phase with message loss, duplication, reordering and long delays,
 * partitions that come and go, and crashes (some in the middle of handling
 * an output batch) with restarts from what the node persisted. Then faults
 * stop: partitions heal, crashed nodes restart, the network only delays
 * (the Byzantine validators go on).
 *
 * Checked after every step (most as the step happens):
 *   agreement  no two honest nodes commit different blocks at one height
 *   validity   every committed block is valid (the application's check) and
 *              carries a certificate that cv_cert_verify accepts
 *   no double signing by honest validators (across restarts), and no
 *              equivocation evidence against them
 *   liveness   within LIVENESS_MS (--long: twice that) after faults stop,
 *              every honest node commits SIM_LIVE_HEIGHTS heights beyond
 *              the highest any honest node had when they stopped
 * A failure prints the seed and the command that replays it. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "sim.h"

#define LIVENESS_MS 30000        /* simulated time allowed for progress after faults stop (--long: 2x) */
#define MAX_EVENTS 3000000       /* per seed: a run beyond this is a failure (livelock) */

typedef struct {
    uint64_t first, count;
    int verbose, long_mode, expect_violation;
    int mutate_lock, mutate_amnesia;
    const char *argv0;
} options;

/* ---- reporting ------------------------------------------------------------------- */

int sim_fail(sim_world *w, int safety, const char *fmt, ...)
{
    if (w->failure[0])
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(w->failure, sizeof w->failure, "at %llu ms: ", (unsigned long long)w->now);
    vsnprintf(w->failure + n, sizeof w->failure - (size_t)n, fmt, ap);
    va_end(ap);
    w->safety_failure = safety;
    sim_log(w, "FAILURE %s", w->failure);
    return -1;
}

void sim_log(sim_world *w, const char *fmt, ...)
{
    if (!w->verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    printf("[%7llu ms] ", (unsigned long long)w->now);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static void replay_command(const options *o, uint64_t seed, char *out, size_t cap)
{
    snprintf(out, cap, "%s --seed %llu --verbose%s%s%s", o->argv0, (unsigned long long)seed,
             o->long_mode ? " --long" : "", o->mutate_lock ? " --mutate lock" : "",
             o->mutate_amnesia ? " --mutate amnesia" : "");
}

/* An assertion or a crash inside a run still names the seed. */
static char crash_note[512];

static void on_fatal_signal(int sig)
{
    ssize_t rc = write(2, crash_note, strlen(crash_note));
    (void)rc;
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ---- scenarios ------------------------------------------------------------------------- */

static int make_validators(sim_world *w)
{
    static const int sizes[] = {4, 4, 4, 5, 7, 7};
    w->n = w->long_mode ? (sim_chance(&w->rng, 500) ? 10 : 7) : sizes[sim_below(&w->rng, 6)];
    int mixed = w->n == 5 || sim_chance(&w->rng, 350);
    cv_keypair keys[SIM_MAX_NODES];
    cv_valset_entry e[SIM_MAX_NODES];
    for (int i = 0; i < w->n; i++) {
        uint8_t secret[CV_SECRET_LEN];
        for (size_t k = 0; k < sizeof secret; k++)
            secret[k] = (uint8_t)sim_rand(&w->rng);
        if (cv_key_from_secret(CV_SUITE_STD, secret, &keys[i]) != CV_OK) {
            while (i-- > 0)
                cv_key_wipe(&keys[i]);
            return sim_fail(w, 0, "key generation failed: %s", cv_errmsg());
        }
        e[i].pub = keys[i].pub;
        e[i].power = mixed ? sim_range(&w->rng, 1, 4) : 10;
    }
    w->vs = malloc(sizeof *w->vs);
    int rc = w->vs ? cv_valset_init(w->vs, CV_SUITE_STD, e, (size_t)w->n) : CV_ENOMEM;
    for (int i = 0; i < w->n; i++) { /* node i is validator i (the nodes own the keys) */
        sim_node *nd = &w->nodes[rc ? i : cv_valset_find_key(w->vs, &keys[i].pub)];
        nd->key = keys[i];
        nd->id = (int)(nd - w->nodes);
    }
    return rc ? sim_fail(w, 0, "validator set: %s", cv_errmsg()) : 0;
}

/* Byzantine validators: a random set holding less than a third of the
 * power, none in a quarter of the seeds. Each misbehaves at random (a set
 * of BYZ_* flags), or, in a third of the seeds, attacks the locks: it
 * splits the network with two proposals and double votes (sim_byz.c). */
static void choose_byzantine(sim_world *w)
{
    uint64_t power = 0;
    int tries = sim_chance(&w->rng, 250) ? 0 : (int)sim_range(&w->rng, 1, 3);
    int attack = sim_chance(&w->rng, 450);
    for (int t = 0; t < tries; t++) {
        sim_node *nd = &w->nodes[sim_below(&w->rng, (uint64_t)w->n)];
        uint64_t p = w->vs->v[nd->id].power;
        if (nd->byz || (power + p) * 3 >= w->vs->total)
            continue;
        power += p;
        nd->byz = (unsigned)sim_range(&w->rng, 1, BYZ_ALL);
        if (attack)
            nd->byz = (nd->byz & (BYZ_GARBAGE | BYZ_WRONG_HEIGHT | BYZ_WRONG_KEY)) | BYZ_EQUIVOCATE | BYZ_DOUBLE_VOTE;
    }
}

/* Links differ: some lose nothing, some the typical share, some most
 * messages; each has its own delay range (which also reorders). */
static void plan_links(sim_world *w)
{
    for (int a = 0; a < w->n; a++)
        for (int b = 0; b < w->n; b++) {
            uint64_t kind = sim_below(&w->rng, 10);
            w->link_loss[a][b] = kind < 4 ? 0 : kind < 8 ? w->loss : 200 + 3 * w->loss;
            w->link_delay[a][b] = w->delay_min + sim_range(&w->rng, 5, w->delay_max - w->delay_min);
        }
}

static void plan_network(sim_world *w)
{
    w->faults = 1;
    w->loss = (unsigned)sim_range(&w->rng, 0, 250);
    w->dup = (unsigned)sim_range(&w->rng, 0, 100);
    w->spike = (unsigned)sim_range(&w->rng, 0, 40);
    w->delay_min = sim_range(&w->rng, 1, 5);
    w->delay_max = w->delay_min + sim_range(&w->rng, 5, 120);
    w->status_ms = sim_range(&w->rng, 300, 4000);
    plan_links(w);
    w->faults_end = w->long_mode ? sim_range(&w->rng, 8000, 30000) : sim_range(&w->rng, 1500, 5000);
    w->deadline = w->faults_end + (w->long_mode ? 2 : 1) * LIVENESS_MS;
}

static uint64_t fault_time(sim_world *w) { return sim_below(&w->rng, w->faults_end); }

static void plan_faults(sim_world *w)
{
    int partitions = (int)sim_below(&w->rng, w->long_mode ? 6 : 3);
    for (int i = 0; i < partitions; i++) {
        uint64_t at = fault_time(w), mask = sim_range(&w->rng, 1, (1ull << w->n) - 2);
        sim_push(w, (sim_event){.time = at, .kind = EV_PARTITION, .arg = mask});
        sim_push(w, (sim_event){.time = at + sim_range(&w->rng, 200, 2500), .kind = EV_HEAL});
    }
    int crashes = (int)sim_below(&w->rng, w->long_mode ? 8 : 4);
    for (int i = 0; i < crashes; i++) {
        uint64_t at = fault_time(w);
        int who = (int)sim_below(&w->rng, (uint64_t)w->n);
        sim_push(w, (sim_event){.time = at, .kind = EV_CRASH, .node = who, .arg = sim_chance(&w->rng, 500)});
        sim_push(w, (sim_event){.time = at + sim_range(&w->rng, 50, 2500), .kind = EV_RESTART, .node = who});
    }
    sim_push(w, (sim_event){.time = w->faults_end, .kind = EV_FAULTS_END});
    sim_push(w, (sim_event){.time = w->deadline, .kind = EV_DEADLINE});
    for (int i = 0; i < w->n; i++)
        if (w->nodes[i].byz)
            sim_push(w, (sim_event){.time = sim_below(&w->rng, 300), .kind = EV_BYZ, .node = i});
}

static void describe(sim_world *w)
{
    if (!w->verbose)
        return;
    printf("seed %llu: %d validators, total power %llu; faults until %llu ms: loss %u%%o, dup %u%%o, "
           "spikes %u%%o, delay %llu-%llu ms\n",
           (unsigned long long)w->seed, w->n, (unsigned long long)w->vs->total, (unsigned long long)w->faults_end,
           w->loss, w->dup, w->spike, (unsigned long long)w->delay_min, (unsigned long long)w->delay_max);
    for (int i = 0; i < w->n; i++)
        printf("  node %d: power %llu%s (flags 0x%02x)\n", i, (unsigned long long)w->vs->v[i].power,
               w->nodes[i].byz ? ", Byzantine" : "", w->nodes[i].byz);
}

/* ---- the run ------------------------------------------------------------------------------ */

static uint64_t honest_min_height(const sim_world *w, uint64_t *max)
{
    uint64_t lo = UINT64_MAX;
    *max = 0;
    for (int i = 0; i < w->n; i++)
        if (!w->nodes[i].byz) {
            lo = w->nodes[i].height < lo ? w->nodes[i].height : lo;
            *max = w->nodes[i].height > *max ? w->nodes[i].height : *max;
        }
    return lo;
}

static void faults_end(sim_world *w)
{
    uint64_t max;
    w->faults = 0;
    w->partition = 0;
    honest_min_height(w, &max);
    w->h_star = max;
    sim_log(w, "faults stop; the highest honest height is %llu", (unsigned long long)max);
    for (int i = 0; i < w->n; i++) {
        w->nodes[i].crash_after = -1;
        if (!w->nodes[i].alive)
            sim_node_boot(w, &w->nodes[i]);
    }
}

static void deadline(sim_world *w)
{
    for (int i = 0; i < w->n; i++) {
        const cv_bft *b = w->nodes[i].bft;
        if (b)
            sim_log(w, "node %d: height %llu round %d step %d locked %d valid %d decided %d; dropped: %llu bad sig, "
                       "%llu far, %llu old, %llu dup, %llu equivocations",
                    i, (unsigned long long)b->height, (int)b->round, (int)b->step, (int)b->rec.locked_round,
                    (int)b->rec.valid_round, b->decided, (unsigned long long)b->stats.bad_signature,
                    (unsigned long long)b->stats.far_round, (unsigned long long)b->stats.old_round,
                    (unsigned long long)b->stats.duplicate, (unsigned long long)b->stats.equivocation);
    }
    char heights[200] = "";
    size_t used = 0;
    for (int i = 0; i < w->n && used < sizeof heights - 20; i++)
        used += (size_t)snprintf(heights + used, sizeof heights - used, " %d:%llu%s", i,
                                 (unsigned long long)w->nodes[i].height, w->nodes[i].byz ? "(byz)" : "");
    sim_fail(w, 0, "liveness: %llu ms after faults stopped, not every honest node passed height %llu; heights%s",
             (unsigned long long)(w->deadline - w->faults_end), (unsigned long long)(w->h_star + SIM_LIVE_HEIGHTS),
             heights);
}

static void crash_event(sim_world *w, sim_node *nd, int mid_batch)
{
    if (!w->faults || !nd->alive)
        return;
    if (mid_batch) {
        nd->crash_after = (int)sim_below(&w->rng, 4);
        sim_log(w, "node %d will crash during its next output batch", nd->id);
        return;
    }
    sim_log(w, "node %d crashes", nd->id);
    sim_node_crash(w, nd);
}

static void dispatch(sim_world *w, const sim_event *ev)
{
    sim_node *nd = &w->nodes[ev->node];
    switch (ev->kind) {
    case EV_DELIVER:
        if (!w->faults || sim_linked(w, ev->from, ev->node))
            sim_node_event(w, nd, ev);
        break;
    case EV_TIMER:
    case EV_BLOCK:
    case EV_STATUS:
        sim_node_event(w, nd, ev);
        break;
    case EV_CRASH:
        crash_event(w, nd, (int)ev->arg);
        break;
    case EV_RESTART:
        if (w->faults && !nd->alive)
            sim_node_boot(w, nd);
        break;
    case EV_PARTITION:
        if (w->faults) {
            w->partition = (uint32_t)ev->arg;
            sim_log(w, "partition: mask 0x%llx", (unsigned long long)ev->arg);
        }
        break;
    case EV_HEAL:
        w->partition = 0;
        sim_log(w, "partition heals");
        break;
    case EV_BYZ:
        sim_byz_tick(w, nd);
        break;
    case EV_FAULTS_END:
        faults_end(w);
        break;
    case EV_DEADLINE:
        if (!w->live)
            deadline(w);
        break;
    }
}

/* After each step: has every honest node shown progress since faults stopped? */
static void check_progress(sim_world *w)
{
    uint64_t max;
    if (!w->faults && w->now >= w->faults_end && honest_min_height(w, &max) >= w->h_star + SIM_LIVE_HEIGHTS)
        w->live = 1;
    if (w->events > MAX_EVENTS)
        sim_fail(w, 0, "more than %d events", MAX_EVENTS);
}

static void world_free(sim_world *w)
{
    for (int i = 0; i < w->n; i++)
        sim_node_free(&w->nodes[i]);
    sim_heap_free(&w->heap);
    free(w->vs);
    free(w->agreed);
}

typedef struct {
    int failed, safety;
    uint64_t heights, events, sim_ms, recovery_ms;
    char failure[600];
} seed_result;

static seed_result run_seed(const options *o, uint64_t seed)
{
    sim_world *w = calloc(1, sizeof *w);
    seed_result r = {0};
    if (!w) {
        r.failed = 1;
        snprintf(r.failure, sizeof r.failure, "out of memory");
        return r;
    }
    w->seed = seed;
    w->verbose = o->verbose;
    w->long_mode = o->long_mode;
    w->mutate_lock = o->mutate_lock;
    w->mutate_amnesia = o->mutate_amnesia;
    sim_rng_seed(&w->rng, seed);
    if (make_validators(w) == 0) {
        choose_byzantine(w);
        plan_network(w);
        plan_faults(w);
        describe(w);
        for (int i = 0; i < w->n && !w->failure[0]; i++)
            sim_node_boot(w, &w->nodes[i]);
    }
    sim_event ev;
    while (!w->failure[0] && !w->live && sim_pop(w, &ev)) {
        w->now = ev.time;
        w->events++;
        dispatch(w, &ev);
        free(ev.data);
        check_progress(w);
    }
    if (!w->failure[0] && !w->live)
        sim_fail(w, 0, "the event queue ran dry");
    r.failed = w->failure[0] != 0;
    r.safety = w->safety_failure;
    r.heights = w->nagreed;
    r.events = w->events;
    r.sim_ms = w->now;
    r.recovery_ms = w->live ? w->now - w->faults_end : 0;
    snprintf(r.failure, sizeof r.failure, "%s", w->failure);
    sim_log(w, "done: %llu heights, %llu events, %llu messages, %llu commits (%llu by sync, %llu forged syncs "
               "rejected), %llu crashes",
            (unsigned long long)w->nagreed, (unsigned long long)w->events, (unsigned long long)w->messages,
            (unsigned long long)w->commits, (unsigned long long)w->syncs, (unsigned long long)w->rejected_syncs,
            (unsigned long long)w->crashes);
    world_free(w);
    free(w);
    return r;
}

/* ---- the command line --------------------------------------------------------------------- */

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s [--seeds N] [--first S] [--seed S] [--verbose] [--long]\n"
            "          [--mutate lock|amnesia] [--expect-violation]\n",
            argv0);
    return 2;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s)
        return -1;
    *out = strtoull(s, &end, 10);
    return *end ? -1 : 0;
}

static int parse(int argc, char **argv, options *o)
{
    *o = (options){.first = 1, .count = 1, .argv0 = argv[0]};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--seeds") && !parse_u64(v, &o->count))
            i++;
        else if (!strcmp(a, "--first") && !parse_u64(v, &o->first))
            i++;
        else if (!strcmp(a, "--seed") && !parse_u64(v, &o->first))
            o->count = 1, i++;
        else if (!strcmp(a, "--verbose"))
            o->verbose = 1;
        else if (!strcmp(a, "--long"))
            o->long_mode = 1;
        else if (!strcmp(a, "--expect-violation"))
            o->expect_violation = 1;
        else if (!strcmp(a, "--mutate") && v && !strcmp(v, "lock"))
            o->mutate_lock = 1, i++;
        else if (!strcmp(a, "--mutate") && v && !strcmp(v, "amnesia"))
            o->mutate_amnesia = 1, i++;
        else
            return -1;
    }
    return o->count ? 0 : -1;
}

int main(int argc, char **argv)
{
    options o;
    char replay[400];
    if (parse(argc, argv, &o))
        return usage(argv[0]);
    if (cv_crypto_init() != CV_OK) {
        fprintf(stderr, "sim: crypto initialisation failed: %s\n", cv_errmsg());
        return 1;
    }
    signal(SIGABRT, on_fatal_signal);
    signal(SIGSEGV, on_fatal_signal);
    clock_t started = clock();
    uint64_t heights = 0, events = 0, sim_ms = 0, failures = 0, seeds = 0, slowest = 0, slowest_seed = 0;
    for (uint64_t seed = o.first; seed < o.first + o.count; seed++) {
        seeds++;
        replay_command(&o, seed, replay, sizeof replay);
        snprintf(crash_note, sizeof crash_note, "\nsim: seed %llu crashed; replay: %s\n", (unsigned long long)seed,
                 replay);
        seed_result r = run_seed(&o, seed);
        heights += r.heights;
        events += r.events;
        sim_ms += r.sim_ms;
        if (r.recovery_ms > slowest) {
            slowest = r.recovery_ms;
            slowest_seed = seed;
        }
        if (o.expect_violation && r.failed && r.safety) {
            printf("sim: the planted bug was caught at seed %llu: %s\n  replay: %s\n", (unsigned long long)seed,
                   r.failure, replay);
            return 0;
        }
        if (r.failed && !o.expect_violation) {
            printf("sim: seed %llu FAILED: %s\n  replay: %s\n", (unsigned long long)seed, r.failure, replay);
            failures++;
            break;
        }
    }
    double wall = (double)(clock() - started) / CLOCKS_PER_SEC;
    printf("sim: the slowest recovery took %llu ms (seed %llu) from faults stopping to every honest node "
           "committing %d more heights; the bound is %d ms\n",
           (unsigned long long)slowest, (unsigned long long)slowest_seed, SIM_LIVE_HEIGHTS,
           (o.long_mode ? 2 : 1) * LIVENESS_MS);
    printf("sim: %llu seeds from %llu, %llu heights decided, %llu events, %.1f simulated minutes, %.1f s CPU\n",
           (unsigned long long)seeds, (unsigned long long)o.first, (unsigned long long)heights,
           (unsigned long long)events, (double)sim_ms / 60000.0, wall);
    cv_crypto_cleanup();
    if (o.expect_violation) {
        printf("sim: FAILED: no safety violation found in %llu seeds with the planted bug\n",
               (unsigned long long)o.count);
        return 1;
    }
    return failures ? 1 : 0;
}
