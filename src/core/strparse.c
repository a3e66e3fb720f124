#include "xsell/strparse.h"

#include <errno.h>
#include <math.h>
#include <time.h>

#include "xsell/caps.h"

int strparse_int64(const char *s, size_t n, int64_t min, int64_t max, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (n == 0)
        return -1;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        return -1;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    int64_t r;
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return -1;
        r = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return -1;
        r = (int64_t)v;
    }
    if (r < min || r > max)
        return -1;
    *out = r;
    return 0;
}

int strparse_double(const char *s, size_t n, double *out)
{
    char tmp[64];
    size_t i = 0, digits = 0;
    if (n == 0 || n >= sizeof(tmp))
        return -1;
    if (s[i] == '-' || s[i] == '+')
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (digits == 0)
        return -1;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        size_t exp_digits = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, exp_digits++;
        if (exp_digits == 0)
            return -1;
    }
    if (i != n)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    errno = 0;
    double v = strtod(tmp, NULL);
    if (errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int strparse_bytes(const char *s, size_t n, double *out)
{
    static const char units[] = "KMGT";
    double scale = 1;
    if (n > 0) {
        const char *u = memchr(units, s[n - 1] & ~0x20, sizeof(units) - 1); /* either case */
        if (u) {
            scale = pow(1024, (double)(u - units + 1));
            n--;
        }
    }
    double v;
    if (strparse_double(s, n, &v) || v < 0)
        return -1;
    *out = floor(v * scale);
    return 0;
}

static bool word_is(const char *s, size_t n, const char *w)
{
    if (strlen(w) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != w[i])
            return false;
    }
    return true;
}

int strparse_bool(const char *s, size_t n, bool *out)
{
    if (word_is(s, n, "true") || word_is(s, n, "t") || word_is(s, n, "1") || word_is(s, n, "yes")) {
        *out = true;
        return 0;
    }
    if (word_is(s, n, "false") || word_is(s, n, "f") || word_is(s, n, "0") || word_is(s, n, "no")) {
        *out = false;
        return 0;
    }
    return -1;
}

/* Reads exactly width digits at s[*i]. */
static int digits(const char *s, size_t n, size_t *i, int width, int *out)
{
    int v = 0;
    if (*i + (size_t)width > n)
        return -1;
    for (int k = 0; k < width; k++) {
        char c = s[*i + (size_t)k];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)width;
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

/* v in width decimal digits, zero-padded, at p; the end. */
static char *put_digits(char *p, int v, int width)
{
    for (int i = width - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + width;
}

/* "YYYY-MM-DD hh:mm:ss.uuuuuu+00" without printf (an import formats one per line);
 * the year is in 1899..3000 (strparse_timestamp's range, moved by an offset). */
static void put_canon(char *canon, int yy, int mm, int dd, int secs_of_day, int usec)
{
    char *p = put_digits(canon, yy, 4);
    *p++ = '-';
    p = put_digits(p, mm, 2);
    *p++ = '-';
    p = put_digits(p, dd, 2);
    *p++ = ' ';
    p = put_digits(p, secs_of_day / 3600, 2);
    *p++ = ':';
    p = put_digits(p, secs_of_day / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, secs_of_day % 60, 2);
    *p++ = '.';
    p = put_digits(p, usec, 6);
    memcpy(p, "+00", 4);
}

int strparse_timestamp(const char *s, size_t n, double *epoch, char *canon)
{
    size_t i = 0;
    int y, mo, d, h = 0, mi = 0, sec = 0, usec = 0, off = 0;
    if (digits(s, n, &i, 4, &y) || i >= n || s[i++] != '-' || digits(s, n, &i, 2, &mo) || i >= n ||
        s[i++] != '-' || digits(s, n, &i, 2, &d))
        return -1;
    if (y < 1900 || y > 2999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return -1;
    if (i < n && (s[i] == 'T' || s[i] == ' ')) {
        i++;
        if (digits(s, n, &i, 2, &h) || i >= n || s[i++] != ':' || digits(s, n, &i, 2, &mi))
            return -1;
        if (i < n && s[i] == ':') {
            i++;
            if (digits(s, n, &i, 2, &sec))
                return -1;
            if (i < n && s[i] == '.') {
                i++;
                int nd = 0;
                while (i < n && s[i] >= '0' && s[i] <= '9') {
                    if (nd < 6)
                        usec = usec * 10 + (s[i] - '0');
                    nd++, i++;
                }
                if (nd == 0 || nd > 9)
                    return -1;
                for (; nd < 6; nd++)
                    usec *= 10;
            }
        }
        if (h > 23 || mi > 59 || sec > 59)
            return -1;
        if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
            i++;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            int sign = s[i++] == '-' ? -1 : 1, oh, om = 0;
            if (digits(s, n, &i, 2, &oh))
                return -1;
            if (i < n && s[i] == ':')
                i++;
            if (i < n && digits(s, n, &i, 2, &om))
                return -1;
            if (oh > 14 || om > 59)
                return -1;
            off = sign * (oh * 3600 + om * 60);
        }
    }
    if (i != n)
        return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    *epoch = (double)secs + usec / 1e6;
    if (canon) {
        int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
        int64_t rem = secs - days * 86400;
        /* civil_from_days */
        int64_t z = days + 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        int64_t dd = doy - (153 * mp + 2) / 5 + 1;
        int64_t mm = mp < 10 ? mp + 3 : mp - 9;
        int64_t yy = yoe + era * 400 + (mm <= 2);
        put_canon(canon, (int)yy, (int)mm, (int)dd, (int)rem, usec);
    }
    return 0;
}

void strparse_format_date(double epoch, char out[11])
{
    time_t t = (time_t)floor(epoch);
    struct tm tm;
    gmtime_r(&t, &tm);
    char tmp[48];
    snprintf(tmp, sizeof(tmp), "%04d-%02d-%02d", (tm.tm_year + 1900) % 10000, tm.tm_mon + 1,
             tm.tm_mday);
    memcpy(out, tmp, 10);
    out[10] = '\0';
}

void strparse_format_timestamp(double epoch, char out[STRPARSE_TS_LEN])
{
    double whole = floor(epoch);
    time_t t = (time_t)whole;
    struct tm tm;
    gmtime_r(&t, &tm);
    int micros = (int)MIN(999999, floor((epoch - whole) * 1e6 + 0.5));
    snprintf(out, STRPARSE_TS_LEN, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00",
             (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec, micros);
}

size_t strparse_utf8_char(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    if (n == 0 || s[0] == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    size_t len;
    uint32_t cp;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        len = 2;
        cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        len = 3;
        cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

bool strparse_utf8_valid(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        /* ASCII without NUL, 8 bytes at a time: every answer is checked, most are ASCII */
        while (i + 8 <= n) {
            uint64_t v;
            memcpy(&v, s + i, 8);
            uint64_t zero = (v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull;
            if ((v & 0x8080808080808080ull) || zero)
                break;
            i += 8;
        }
        if (i == n)
            break;
        size_t len = strparse_utf8_char(s + i, n - i);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

bool strparse_id_valid(const char *s, size_t n)
{
    if (n == 0 || n > ID_MAX || !strparse_utf8_valid(s, n))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    /* C1 controls (U+0080..U+009F) are 0xC2 0x80..0x9F in UTF-8 */
    for (size_t i = 0; i + 1 < n; i++)
        if ((unsigned char)s[i] == 0xC2 && (unsigned char)s[i + 1] < 0xA0)
            return false;
    return true;
}
