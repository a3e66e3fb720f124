#include "xsell/log.h"

#include <stdarg.h>
#include <time.h>

#include "xsell/strparse.h"

#define LOG_MSG_MAX 4096 /* a message; longer ones are cut, marked " [cut]" */

static enum log_level min_level = LOG_INFO;
static enum log_format format = LOG_TEXT;
static FILE *output; /* NULL: stderr */

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_level(enum log_level level)
{
    min_level = level;
}

void log_set_format(enum log_format f)
{
    format = f;
}

void log_set_output(FILE *f)
{
    output = f;
}

int log_configure_env(char *err, size_t errlen)
{
    const char *f = getenv("XSELL_LOG_FORMAT"), *l = getenv("XSELL_LOG_LEVEL");
    if (f && *f) {
        if (strcmp(f, "text") == 0)
            format = LOG_TEXT;
        else if (strcmp(f, "json") == 0)
            format = LOG_JSON;
        else
            return fmt_error(err, errlen, "XSELL_LOG_FORMAT must be text or json, got \"%.40s\"",
                             f);
    }
    if (l && *l) {
        size_t i = 0;
        while (i < ARRAY_SIZE(level_names) && strcmp(l, level_names[i]) != 0)
            i++;
        if (i == ARRAY_SIZE(level_names))
            return fmt_error(err, errlen,
                             "XSELL_LOG_LEVEL must be debug, info, warn or error, got \"%.40s\"",
                             l);
        min_level = (enum log_level)i;
    }
    return 0;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Appends msg to line (at used), each byte that could forge or break a line escaped:
 * for text, control bytes as \n \r \t or \xHH and bytes of no UTF-8 character as \xHH;
 * for JSON, a JSON string body (invalid bytes as \ufffd). */
static size_t append_escaped(char *line, size_t used, size_t cap, const char *msg, bool json)
{
    size_t n = strlen(msg);
    for (size_t i = 0; i < n && used + 8 < cap;) {
        unsigned char c = (unsigned char)msg[i];
        size_t k = strparse_utf8_char(msg + i, n - i);
        const char *esc = NULL;
        char hex[8];
        if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (json && (c == '"' || c == '\\'))
            esc = c == '"' ? "\\\"" : "\\\\";
        else if (c < 0x20 || c == 0x7f || k == 0) {
            if (json)
                snprintf(hex, sizeof(hex), k == 0 ? "\\ufffd" : "\\u%04x", c);
            else
                snprintf(hex, sizeof(hex), "\\x%02x", c);
            esc = hex;
        }
        if (esc) {
            used += (size_t)snprintf(line + used, cap - used, "%s", esc);
            i++;
        } else {
            if (used + k + 8 >= cap)
                break;
            memcpy(line + used, msg + i, k);
            used += k;
            i += k;
        }
    }
    return used;
}

static void vlog(enum log_level level, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);
static void vlog(enum log_level level, const char *fmt, va_list ap)
{
    if (level < min_level)
        return;
    char msg[LOG_MSG_MAX], ts[96], line[4 * LOG_MSG_MAX + 128];
    int m = vsnprintf(msg, sizeof(msg), fmt, ap);
    bool cut = m >= (int)sizeof(msg);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    struct tm tm;
    gmtime_r(&t.tv_sec, &tm);
    snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, t.tv_nsec / 1000000);
    bool json = format == LOG_JSON;
    int used = json ? snprintf(line, sizeof(line), "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts,
                               level_names[level])
                    : snprintf(line, sizeof(line), "%s %s ", ts, level_names[level]);
    size_t n = append_escaped(line, (size_t)used, sizeof(line) - 16, msg, json);
    if (cut) {
        memcpy(line + n, " [cut]", 6);
        n += 6;
    }
    if (json) {
        memcpy(line + n, "\"}", 2);
        n += 2;
    }
    line[n++] = '\n'; /* always: lines never merge */
    line[n] = '\0';
    /* One write per line so lines from threads do not interleave. */
    fputs(line, output ? output : stderr);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(level, fmt, ap);
    va_end(ap);
}

int log_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(LOG_ERROR, fmt, ap);
    va_end(ap);
    return -1;
}

int fmt_error(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}
