#include "xsell/config.h"

#include <stdarg.h>
#include <unistd.h>

#include "xsell/log.h"
#include "xsell/strparse.h"
#include "xsell/xalloc.h"

static int env_int(const char *name, int64_t min, int64_t max, int64_t def, int64_t *out, char *err,
                   size_t errlen)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    if (strparse_int64(v, strlen(v), min, max, out))
        return fmt_error(err, errlen, "%s must be an integer in %lld..%lld, got \"%s\"", name,
                         (long long)min, (long long)max, v);
    return 0;
}

static int env_double(const char *name, double min, double max, double def, double *out, char *err,
                      size_t errlen)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        *out = def;
        return 0;
    }
    if (strparse_double(v, strlen(v), out) || *out < min || *out > max)
        return fmt_error(err, errlen, "%s must be a number in %g..%g, got \"%s\"", name, min, max,
                         v);
    return 0;
}

static int parse_listen(struct config *c, const char *v, char *err, size_t errlen)
{
    const char *colon = strrchr(v, ':');
    int64_t port;
    if (!colon || colon == v || strparse_int64(colon + 1, strlen(colon + 1), 1, 65535, &port))
        return fmt_error(err, errlen, "XSELL_LISTEN must be host:port, got \"%s\"", v);
    c->listen_host = xstrndup(v, (size_t)(colon - v));
    c->port = (uint16_t)port;
    return 0;
}

/* "origin|origin" (n bytes) into k's origins; -1 when empty or too many. */
static int key_origins(struct api_key *k, const char *s, size_t n)
{
    while (n > 0) {
        const char *bar = memchr(s, '|', n);
        size_t len = bar ? (size_t)(bar - s) : n;
        if (len == 0 || k->norigins == KEY_ORIGINS_MAX)
            return -1;
        k->origins[k->norigins++] = xstrndup(s, len);
        s += len + (bar ? 1 : 0);
        n -= len + (bar ? 1 : 0);
    }
    return k->norigins ? 0 : -1;
}

static int parse_keys(struct config *c, const char *v, char *err, size_t errlen)
{
    const char *p = v;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *colon = memchr(p, ':', n);
        enum role role;
        if (n > 0) {
            if (!colon || role_parse(p, (size_t)(colon - p), &role))
                return fmt_error(err, errlen,
                                 "XSELL_API_KEYS entry %d must be role:key with role public, "
                                 "internal or admin",
                                 c->nkeys + 1);
            size_t klen = n - (size_t)(colon - p) - 1;
            const char *at = memchr(colon + 1, '@', klen);
            size_t olen = at ? klen - (size_t)(at - colon - 1) - 1 : 0;
            if (at)
                klen = (size_t)(at - colon - 1);
            if (klen < 8)
                return fmt_error(err, errlen,
                                 "XSELL_API_KEYS entry %d: a key needs 8 characters or more",
                                 c->nkeys + 1);
            if (c->nkeys == API_KEYS_MAX)
                return fmt_error(err, errlen, "XSELL_API_KEYS holds more than %d keys",
                                 API_KEYS_MAX);
            struct api_key *k = &c->keys[c->nkeys++];
            k->role = role;
            k->key = xstrndup(colon + 1, klen);
            k->len = klen;
            if (at && key_origins(k, at + 1, olen))
                return fmt_error(err, errlen,
                                 "XSELL_API_KEYS entry %d: after @ come 1..%d origins "
                                 "separated by |",
                                 c->nkeys, KEY_ORIGINS_MAX);
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return 0;
}

static int parse_cors(struct config *c, const char *v, char *err, size_t errlen)
{
    const char *p = v;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n && *p == ' ')
            p++, n--;
        while (n && p[n - 1] == ' ')
            n--;
        if (n == 1 && *p == '*') {
            c->cors_any = true;
        } else if (n > 0) {
            if (c->ncors == CORS_ORIGINS_MAX)
                return fmt_error(err, errlen, "XSELL_CORS_ORIGINS holds more than %d origins",
                                 CORS_ORIGINS_MAX);
            c->cors[c->ncors++] = xstrndup(p, n);
        }
        p = end ? end + 1 : p + n;
    }
    return 0;
}

/* One setting from its variable or its default; -1 with err naming the variable and
 * what it sets. */
static int load_setting(const struct model_setting *st, struct model_params *mp, char *err,
                        size_t errlen)
{
    char *field = (char *)mp + st->offset;
    char why[300];
    double d = 0;
    int64_t v = 0;
    int rc;
    if (st->type == SETTING_DOUBLE) {
        rc = env_double(st->env, st->min, st->max, st->def, &d, why, sizeof(why));
        if (rc == 0)
            memcpy(field, &d, sizeof(d));
    } else {
        rc = env_int(st->env, (int64_t)st->min, (int64_t)st->max, (int64_t)st->def, &v, why,
                     sizeof(why));
        int i = (int)v;
        long l = (long)v;
        if (rc == 0 && st->type == SETTING_INT)
            memcpy(field, &i, sizeof(i));
        else if (rc == 0)
            memcpy(field, &l, sizeof(l));
    }
    return rc ? fmt_error(err, errlen, "%s (%s: %s)", why, st->model, st->what) : 0;
}

/* XSELL_SNAPSHOT_DIR, else the user's cache folder (XDG_CACHE_HOME or ~/.cache)
 * under xsell/, else one in /tmp. */
static char *default_snapshot_dir(void)
{
    const char *s = getenv("XSELL_SNAPSHOT_DIR");
    if (s && *s)
        return xstrdup(s);
    char buf[4096];
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(buf, sizeof(buf), "%s/xsell", xdg);
    else if (home && *home)
        snprintf(buf, sizeof(buf), "%s/.cache/xsell", home);
    else
        snprintf(buf, sizeof(buf), "/tmp/xsell-cache-%ld", (long)getuid());
    return xstrdup(buf);
}

/* Every model's settings (models.h), each from its variable or its default. */
static int load_model_settings(struct model_params *mp, char *err, size_t errlen)
{
    model_params_defaults(mp);
    for (int i = 0; i < model_settings_count; i++)
        if (load_setting(&model_settings[i], mp, err, errlen))
            return -1;
    return 0;
}

/* What keeps one client from starving the others (DESIGN.md, "Limits"). */
static int load_connection_limits(struct config *c, char *err, size_t errlen)
{
    int64_t v;
    char why[200];
    const char *s = getenv("XSELL_TRUSTED_PROXIES");
    if (s && net_blocks_parse(s, c->trusted, TRUSTED_PROXIES_MAX, &c->ntrusted, why, sizeof(why)))
        return fmt_error(err, errlen, "XSELL_TRUSTED_PROXIES: %s", why);
    if (env_double("XSELL_AUTH_FAIL_RPS", 0, 1e6, 1, &c->auth_fail_rps, err, errlen) ||
        env_double("XSELL_AUTH_FAIL_BURST", 1, 1e6, 20, &c->auth_fail_burst, err, errlen) ||
        env_double("XSELL_REQUEST_DEADLINE_S", 1, 3600, 20, &c->request_deadline_s, err, errlen))
        return -1;
    if (env_int("XSELL_CONN_LIMIT", 4, 100000, 1024, &v, err, errlen))
        return -1;
    c->conn_limit = (int)v;
    if (env_int("XSELL_CONN_PER_CLIENT", 1, 100000, 64, &v, err, errlen))
        return -1;
    c->conn_per_client = (int)v;
    if (env_int("XSELL_CONN_TIMEOUT_S", 1, 3600, 30, &v, err, errlen))
        return -1;
    c->conn_timeout_s = (int)v;
    c->conn_memory = 64 * 1024;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (env_int("XSELL_HEAVY_THREADS", 1, 64, cores > 1 ? cores / 2 : 1, &v, err, errlen))
        return -1;
    c->heavy_threads = (int)v;
    if (env_int("XSELL_HEAVY_QUEUE", 0, 10000, 16, &v, err, errlen))
        return -1;
    c->heavy_queue = (int)v;
    return 0;
}

int config_load(struct config *c, char *err, size_t errlen)
{
    int64_t v;
    const char *s;
    memset(c, 0, sizeof(*c));
    s = getenv("DATABASE_URL");
    c->database_url = xstrdup(s ? s : "");
    s = getenv("XSELL_TRAIN_DATABASE_URL");
    c->train_database_url = s && *s ? xstrdup(s) : NULL;
    s = getenv("XSELL_LISTEN");
    if (parse_listen(c, s && *s ? s : "127.0.0.1:8080", err, errlen))
        return -1;
    if (env_int("XSELL_THREADS", 1, 256, 4, &v, err, errlen))
        return -1;
    c->threads = (int)v;
    if (env_int("XSELL_RETRAIN_S", 0, 86400 * 30, 3600, &v, err, errlen))
        return -1;
    c->retrain_s = (int)v;
    if (env_int("XSELL_REFIT_S", 0, 86400 * 365, 86400, &v, err, errlen))
        return -1;
    c->refit_s = (int)v;
    s = getenv("XSELL_API_KEYS");
    if (s && parse_keys(c, s, err, errlen))
        return -1;
    s = getenv("XSELL_AUTH");
    if (s && *s) {
        if (strcmp(s, "none") == 0)
            c->auth_none = true;
        else if (strcmp(s, "keys") != 0)
            return fmt_error(err, errlen, "XSELL_AUTH must be \"keys\" or \"none\", got \"%s\"", s);
    }
    s = getenv("XSELL_ACCESS_LOG");
    c->access_log = true;
    if (s && *s && strparse_bool(s, strlen(s), &c->access_log))
        return fmt_error(err, errlen, "XSELL_ACCESS_LOG must be true or false, got \"%s\"", s);
    s = getenv("XSELL_CORS_ORIGINS");
    if (s && parse_cors(c, s, err, errlen))
        return -1;
    if (env_int("XSELL_BODY_MAX", 1024, 256 << 20, BODY_MAX_DEFAULT, &v, err, errlen))
        return -1;
    c->body_max = (size_t)v;
    if (env_double("XSELL_RATE_RPS", 0, 1e9, 200, &c->rate_rps, err, errlen) ||
        env_double("XSELL_RATE_BURST", 1, 1e9, 400, &c->rate_burst, err, errlen))
        return -1;
    if (load_connection_limits(c, err, errlen))
        return -1;
    if (env_int("XSELL_DB_POOL", 1, DB_POOL_MAX, 4, &v, err, errlen))
        return -1;
    c->db_pool = (int)v;
    if (env_int("XSELL_DB_QUEUE", 0, 10000, 256, &v, err, errlen))
        return -1;
    c->db_queue = (int)v;
    s = getenv("XSELL_AS_OF");
    if (s && *s && strparse_timestamp(s, strlen(s), &c->as_of, NULL))
        return fmt_error(err, errlen, "XSELL_AS_OF must be an ISO-8601 date or time, got \"%s\"",
                         s);
    if (s && strlen(s) == 10) /* a date means all of that day */
        c->as_of += 86400 - 0.001;
    if (env_int("XSELL_EVENTS_KEEP_DAYS", 1, 3650, 90, &v, err, errlen))
        return -1;
    c->events_keep_days = (int)v;
    if (env_double("XSELL_ATTRIBUTION_HOURS", 0.01, 24 * 90, 24, &c->attribution_hours, err,
                   errlen))
        return -1;
    if (env_double("XSELL_EVAL_HOLDOUT_DAYS", 0, 3650, 28, &c->eval_holdout_days, err, errlen))
        return -1;
    if (env_double("XSELL_GATE_TOLERANCE", 0, 1000, 0.05, &c->gate_tolerance, err, errlen))
        return -1;
    if (env_double("XSELL_TUNE_BUDGET_S", 0, 86400, 30, &c->tune_budget_s, err, errlen))
        return -1;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (env_int("XSELL_TRAIN_THREADS", 1, 64, cores > 0 ? MIN(cores, 64) : 1, &v, err, errlen))
        return -1;
    c->train_threads = (int)v;
    s = getenv("XSELL_MEMORY_MAX");
    double bytes = 0;
    if (s && *s && (strparse_bytes(s, strlen(s), &bytes) || (bytes > 0 && bytes < 1 << 20)))
        return fmt_error(err, errlen,
                         "XSELL_MEMORY_MAX must be a size of 1M or more (e.g. 6G, 1500M) or 0 "
                         "for none, got \"%s\"",
                         s);
    c->memory_max = (size_t)bytes;
    s = getenv("XSELL_PRICE_TRUTH");
    c->price_truth = s && *s ? xstrdup(s) : NULL;
    s = getenv("XSELL_ROLE");
    if (s && *s) {
        if (strcmp(s, "all") == 0)
            c->process_role = PROCESS_ALL;
        else if (strcmp(s, "api") == 0)
            c->process_role = PROCESS_API;
        else if (strcmp(s, "trainer") == 0)
            c->process_role = PROCESS_TRAINER;
        else
            return fmt_error(err, errlen,
                             "XSELL_ROLE must be \"all\", \"api\" or \"trainer\", got \"%s\"", s);
    }
    if (env_double("XSELL_FOLLOW_S", 0.2, 3600, 5, &c->follow_s, err, errlen))
        return -1;
    if (env_int("XSELL_SNAPSHOTS_KEEP", 0, 100, 3, &v, err, errlen))
        return -1;
    c->snapshots_keep = (int)v;
    c->snapshot_dir = default_snapshot_dir();
    return load_model_settings(&c->model, err, errlen);
}

const char *process_role_name(enum process_role r)
{
    return r == PROCESS_API ? "api" : r == PROCESS_TRAINER ? "trainer" : "all";
}

double config_history_end(const struct config *c)
{
    return c->as_of > 0 ? c->as_of : now_seconds();
}

void config_release(struct config *c)
{
    free(c->price_truth);
    free(c->snapshot_dir);
    free(c->train_database_url);
    free(c->database_url);
    free(c->listen_host);
    for (int i = 0; i < c->nkeys; i++) {
        free(c->keys[i].key);
        for (int k = 0; k < c->keys[i].norigins; k++)
            free(c->keys[i].origins[k]);
    }
    for (int i = 0; i < c->ncors; i++)
        free(c->cors[i]);
    memset(c, 0, sizeof(*c));
}
