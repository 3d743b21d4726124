/* log.h: one-line log records on standard error: time, level, message. */
#ifndef CV_BASE_LOG_H
#define CV_BASE_LOG_H

typedef enum { CV_LOG_DEBUG, CV_LOG_INFO, CV_LOG_WARN, CV_LOG_ERROR } cv_log_level;

void cv_log_set_level(cv_log_level level);
void cv_log(cv_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define cv_info(...) cv_log(CV_LOG_INFO, __VA_ARGS__)
#define cv_warn(...) cv_log(CV_LOG_WARN, __VA_ARGS__)
#define cv_error(...) cv_log(CV_LOG_ERROR, __VA_ARGS__)
#define cv_debug(...) cv_log(CV_LOG_DEBUG, __VA_ARGS__)

#endif
