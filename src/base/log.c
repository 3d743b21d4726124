/* log.c: timestamped log lines on standard error (see log.h). */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static cv_log_level min_level = CV_LOG_INFO;

void cv_log_set_level(cv_log_level level)
{
    min_level = level;
}

void cv_log(cv_log_level level, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (level < min_level)
        return;
    char line[1024], stamp[32];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line keeps lines whole when threads log at once. */
    fprintf(stderr, "%s.%03ldZ %-5s %s\n", stamp, ts.tv_nsec / 1000000, names[level], line);
}
