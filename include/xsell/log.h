/* log.h - one line per event on stderr: time, level, message, as text or as JSON lines
 * (XSELL_LOG_FORMAT), from a least level on (XSELL_LOG_LEVEL). Whatever a message
 * holds (a path, an id a client sent), a line stays one line: control characters and
 * bytes that are not UTF-8 are escaped, and a message past 4 KiB is cut, marked, and
 * still ends its line. Never logs keys. */
#ifndef XSELL_LOG_H
#define XSELL_LOG_H

#include "xsell/common.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

void log_set_level(enum log_level level);
void log_set_format(enum log_format f);
/* Where lines go (NULL: stderr); for tests. */
void log_set_output(FILE *f);
/* XSELL_LOG_FORMAT (text|json) and XSELL_LOG_LEVEL (debug|info|warn|error); -1 with
 * err naming a bad value. */
int log_configure_env(char *err, size_t errlen);
void log_msg(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
/* error()-style: logs and returns -1, so failing is one line. */
int log_fail(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Writes a message into err (errlen bytes) and returns -1: for functions that hand
 * their reason to the caller instead of logging it. */
int fmt_error(char *err, size_t errlen, const char *fmt, ...) PRINTF_LIKE(3, 4);
double now_seconds(void);  /* wall clock, seconds since the epoch */
double mono_seconds(void); /* monotonic clock */

#endif
