/* strparse.h - strict parsing of numbers, booleans, timestamps and UTF-8.
 * Each takes a pointer and a length (no NUL needed), accepts the whole text
 * or nothing, and returns 0 or -1. */
#ifndef XSELL_STRPARSE_H
#define XSELL_STRPARSE_H

#include "xsell/common.h"

int strparse_int64(const char *s, size_t n, int64_t min, int64_t max, int64_t *out);
/* A finite decimal number: [-]digits[.digits][e[+-]digits]. No hex, inf or nan. */
int strparse_double(const char *s, size_t n, double *out);
/* A size in bytes: a number at zero or above, with an optional K, M, G or T (either
 * case; powers of 1024) after it: "1.5G", "800m", "1048576". */
int strparse_bytes(const char *s, size_t n, double *out);
/* true/false (also t/f, 1/0, yes/no), case-insensitive. */
int strparse_bool(const char *s, size_t n, bool *out);
/* ISO-8601 date or date-time: YYYY-MM-DD[(T| )hh:mm[:ss[.f{1,6}]]][Z|(+|-)hh[:mm]].
 * No zone means UTC. Writes seconds since the Unix epoch (with microseconds as the
 * fraction) and, if canon is not NULL, the canonical form
 * "YYYY-MM-DD hh:mm:ss.ffffff+00" into canon (at least STRPARSE_TS_LEN bytes). */
#define STRPARSE_TS_LEN 64
int strparse_timestamp(const char *s, size_t n, double *epoch, char *canon);
/* Formats epoch seconds as the canonical "YYYY-MM-DD hh:mm:ss.ffffff+00" (UTC). */
void strparse_format_timestamp(double epoch, char out[STRPARSE_TS_LEN]);
/* Formats epoch seconds as YYYY-MM-DD (UTC) into out (11 bytes). */
void strparse_format_date(double epoch, char out[11]);
/* Well-formed UTF-8 without NUL bytes, overlongs or surrogates. */
bool strparse_utf8_valid(const char *s, size_t n);
/* The length of the well-formed UTF-8 character (not NUL) at s, 0 if there is none. */
size_t strparse_utf8_char(const char *s, size_t n);
/* The one rule for every id (product, customer, order), wherever it comes from:
 * 1..ID_MAX bytes of valid UTF-8 without control characters (C0, DEL, C1). */
bool strparse_id_valid(const char *s, size_t n);

#endif
