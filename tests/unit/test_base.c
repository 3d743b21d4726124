/* test_base.c: the base layer: buffers, hex, errors, files, thread pool. */
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/file.h"
#include "base/pool.h"
#include "check.h"

static void test_buf(void)
{
    cv_buf b = {0};
    for (int i = 0; i < 1000; i++)
        CHECK_OK(cv_buf_append_byte(&b, (uint8_t)i));
    CHECK(b.len == 1000 && b.cap >= 1000);
    int ok = 1;
    for (int i = 0; i < 1000; i++)
        ok &= b.data[i] == (uint8_t)i;
    CHECK(ok);
    cv_buf_reset(&b);
    CHECK(b.len == 0 && b.cap >= 1000);
    CHECK_OK(cv_buf_append(&b, "abc", 3));
    CHECK(b.len == 3 && memcmp(b.data, "abc", 3) == 0);
    cv_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 0);
}

static void test_hex(void)
{
    uint8_t in[4] = {0x00, 0x7f, 0xa5, 0xff}, out[4];
    char hex[9];
    cv_hex_encode(in, 4, hex);
    CHECK(strcmp(hex, "007fa5ff") == 0);
    CHECK_OK(cv_hex_decode("007FA5ff", out, 4));
    CHECK(memcmp(in, out, 4) == 0);
    CHECK_ERR(cv_hex_decode("007fa5f", out, 4), CV_EINVAL);
    CHECK_ERR(cv_hex_decode("007fa5fg", out, 4), CV_EINVAL);
    CHECK_MSG("position 7");
    CHECK_ERR(cv_hex_decode("007fa5ff00", out, 4), CV_EINVAL);
    cv_buf b = {0};
    CHECK_OK(cv_hex_decode_buf("", &b));
    CHECK(b.len == 0);
    CHECK_OK(cv_hex_decode_buf("0a0B", &b));
    CHECK(b.len == 2 && b.data[0] == 10 && b.data[1] == 11);
    CHECK_ERR(cv_hex_decode_buf("abc", &b), CV_EINVAL);
    CHECK_MSG("odd");
    cv_buf_free(&b);
}

static void test_err(void)
{
    CHECK(cv_fail(CV_EPERM, "role %s lacks %d", "member", 7) == CV_EPERM);
    CHECK(strcmp(cv_errmsg(), "role member lacks 7") == 0);
    CHECK(strcmp(cv_strerror(CV_EDECODE), "malformed encoding") == 0);
}

static void test_files(void)
{
    char dir[] = "/tmp/cv-test-base-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/f", dir);
    CHECK_OK(cv_file_write(path, "hello", 5, 0600, 1));
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK_OK(cv_file_check_private(path));
    CHECK_ERR(cv_file_write(path, "again", 5, 0600, 1), CV_EEXIST);
    cv_buf b = {0};
    CHECK_OK(cv_file_read(path, 100, &b));
    CHECK(b.len == 5 && memcmp(b.data, "hello", 5) == 0);
    CHECK_ERR(cv_file_read(path, 4, &b), CV_EINVAL);
    CHECK_MSG("too large");
    CHECK_OK(cv_file_write(path, "replaced", 8, 0644, 0));
    CHECK_OK(cv_file_read(path, 100, &b));
    CHECK(b.len == 8 && memcmp(b.data, "replaced", 8) == 0);
    CHECK_ERR(cv_file_check_private(path), CV_EPERM);
    CHECK_MSG("chmod 600");
    CHECK_ERR(cv_file_read(dir, 100, &b), CV_EINVAL);
    snprintf(path, sizeof path, "%s/missing", dir);
    CHECK_ERR(cv_file_read(path, 100, &b), CV_EIO);
    cv_buf_free(&b);
    snprintf(path, sizeof path, "%s/f", dir);
    unlink(path);
    rmdir(dir);
}

typedef struct {
    atomic_int *hits;
    atomic_long sum;
} pool_job;

static void count_index(void *arg, size_t i)
{
    pool_job *job = arg;
    atomic_fetch_add(&job->hits[i], 1);
    atomic_fetch_add(&job->sum, (long)i);
}

static void test_pool(void)
{
    for (unsigned threads = 1; threads <= 4; threads++) {
        cv_pool *pool;
        CHECK_OK(cv_pool_create(threads, &pool));
        CHECK(cv_pool_threads(pool) == threads);
        for (size_t n = 0; n < 2000; n += 397) {
            pool_job job = {calloc(n + 1, sizeof(atomic_int)), 0};
            cv_pool_run(pool, n, count_index, &job);
            int once = 1;
            for (size_t i = 0; i < n; i++)
                once &= job.hits[i] == 1;
            CHECK(once);
            CHECK(atomic_load(&job.sum) == (long)(n * (n ? n - 1 : 0) / 2));
            free(job.hits);
        }
        cv_pool_destroy(pool);
    }
    cv_pool *bad;
    CHECK_ERR(cv_pool_create(0, &bad), CV_EINVAL);
    CHECK(cv_cpu_count() >= 1);
}

int main(void)
{
    test_buf();
    test_hex();
    test_err();
    test_files();
    test_pool();
    return check_done();
}
