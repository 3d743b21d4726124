/* cmd_net.c: a local network on loopback in one command: `civitas net up N
 * --home DIR` creates N organisations' homes under DIR (if missing) and
 * starts their nodes in the background; `civitas net down --home DIR` stops
 * them. Each node logs to DIR/orgI/node.log and records its pid in
 * DIR/orgI/node.pid. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/file.h"
#include "cli/cli.h"
#include "node/node.h"
#include "rpc/httpc.h"

#define MAX_NODES 64
#define WAIT_MS 30000

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Starts `civitas node --home home` detached, logging to home/node.log. */
static int spawn_node(const cli_args *a, const char *home)
{
    char log[1200], pidfile[1200], self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return cli_fail(a, "cannot find the civitas binary");
    self[n] = '\0';
    snprintf(log, sizeof log, "%s/node.log", home);
    snprintf(pidfile, sizeof pidfile, "%s/node.pid", home);
    pid_t pid = fork();
    if (pid < 0)
        return cli_fail(a, "fork failed: %s", strerror(errno));
    if (pid == 0) {
        setsid();
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        int null = open("/dev/null", O_RDONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        if (null >= 0)
            dup2(null, 0);
        execl(self, self, "node", "--home", home, (char *)NULL);
        _exit(127);
    }
    char text[32];
    int len = snprintf(text, sizeof text, "%ld\n", (long)pid);
    if (cv_file_write(pidfile, text, (size_t)len, 0644, 0) != CV_OK)
        return cli_fail_cv(a);
    return 0;
}

/* Waits until the node of home answers its RPC status. */
static int wait_ready(const cli_args *a, const char *home)
{
    cv_node_config cfg;
    if (cv_node_config_load(home, &cfg) != CV_OK)
        return cli_fail_cv(a);
    for (long waited = 0; waited < WAIT_MS; waited += 100) {
        cv_httpc c;
        json_t *st = NULL;
        int ok = cv_httpc_init(&c, cfg.rpc_listen, 2000) == CV_OK && cv_httpc_call(&c, "status", NULL, &st, NULL) == CV_OK;
        cv_httpc_close(&c);
        json_decref(st);
        if (ok) {
            printf("%s: running, RPC http://%s\n", home, cfg.rpc_listen);
            return 0;
        }
        pause_ms(100);
    }
    return cli_fail(a, "the node of %s did not answer within %d s (see %s/node.log)", home, WAIT_MS / 1000, home);
}

static size_t count_homes(const char *dir)
{
    size_t n = 0;
    char path[1100];
    struct stat st;
    while (n < MAX_NODES) {
        snprintf(path, sizeof path, "%s/org%zu/config.json", dir, n + 1);
        if (stat(path, &st) != 0)
            break;
        n++;
    }
    return n;
}

static int net_up(cli_args *a, const char *dir)
{
    unsigned long want = a->npos > 1 ? strtoul(a->pos[1], NULL, 10) : 4;
    size_t have = count_homes(dir);
    if (want < 1 || want > MAX_NODES)
        return cli_usage(a, "N must be from 1 to %d", MAX_NODES);
    if (have == 0) {
        char count[16];
        snprintf(count, sizeof count, "%lu", want);
        const char *suite = cli_get(a, "--suite") ? cli_get(a, "--suite") : "std";
        char *init_argv[12] = {"init", "--orgs", count, "--out", (char *)dir, "--suite", (char *)suite};
        int argc = 7;
        if (cli_get(a, "--rpc-port")) {
            init_argv[argc++] = "--rpc-port";
            init_argv[argc++] = (char *)cli_get(a, "--rpc-port");
        }
        if (cli_get(a, "--p2p-port")) {
            init_argv[argc++] = "--p2p-port";
            init_argv[argc++] = (char *)cli_get(a, "--p2p-port");
        }
        init_argv[argc] = NULL;
        int rc = cmd_init(argc, init_argv);
        if (rc)
            return rc;
        have = want;
    } else if (have != want) {
        return cli_fail(a, "%s already holds a network of %zu nodes, not %lu", dir, have, want);
    }
    for (size_t i = 1; i <= have; i++) {
        char home[1100];
        snprintf(home, sizeof home, "%s/org%zu", dir, i);
        if (spawn_node(a, home))
            return 1;
    }
    for (size_t i = 1; i <= have; i++) {
        char home[1100];
        snprintf(home, sizeof home, "%s/org%zu", dir, i);
        if (wait_ready(a, home))
            return 1;
    }
    printf("network of %zu validators up; stop it with: civitas net down --home %s\n", have, dir);
    return 0;
}

/* Stops the node whose pid is in home/node.pid, waiting for it to exit. */
static int stop_node(const cli_args *a, const char *home)
{
    char pidfile[1200];
    cv_buf text = {0};
    snprintf(pidfile, sizeof pidfile, "%s/node.pid", home);
    if (cv_file_read(pidfile, 64, &text) != CV_OK)
        return 0; /* not running */
    cv_buf_append_byte(&text, 0);
    long pid = strtol((const char *)text.data, NULL, 10);
    cv_buf_free(&text);
    if (pid <= 1)
        return cli_fail(a, "%s does not hold a pid", pidfile);
    if (kill((pid_t)pid, SIGTERM) == 0)
        for (int waited = 0; waited < WAIT_MS && kill((pid_t)pid, 0) == 0; waited += 100)
            pause_ms(100);
    if (kill((pid_t)pid, 0) == 0)
        return cli_fail(a, "node %ld of %s did not stop", pid, home);
    unlink(pidfile);
    printf("%s: stopped\n", home);
    return 0;
}

int cmd_net(int argc, char **argv)
{
    cli_opt opts[] = {{"--home", 1, NULL}, {"--suite", 1, NULL}, {"--rpc-port", 1, NULL}, {"--p2p-port", 1, NULL}};
    cli_args a = {"net", "net up N --home DIR [--suite std|gm] [--rpc-port P] [--p2p-port P] | net down --home DIR",
                  opts, 4, {0}, 0};
    int rc = cli_parse(&a, argc, argv, 1, 2);
    if (rc)
        return rc;
    const char *dir = cli_get(&a, "--home");
    if (!dir)
        return cli_usage(&a, "--home DIR is required");
    if (strcmp(a.pos[0], "up") == 0)
        return net_up(&a, dir);
    if (strcmp(a.pos[0], "down") != 0 || a.npos != 1)
        return cli_usage(&a, "expected \"up N\" or \"down\"");
    size_t n = count_homes(dir);
    for (size_t i = 1; i <= n; i++) {
        char home[1100];
        snprintf(home, sizeof home, "%s/org%zu", dir, i);
        rc |= stop_node(&a, home);
    }
    return rc;
}
