/* config.h - settings from the environment (DESIGN.md lists them); flags may override. */
#ifndef XSELL_CONFIG_H
#define XSELL_CONFIG_H

#include "xsell/auth.h"
#include "xsell/caps.h"
#include "xsell/common.h"
#include "xsell/models.h"
#include "xsell/netaddr.h"

/* XSELL_ROLE: what a process does (README, "Past one process"). */
enum process_role {
    PROCESS_ALL = 0, /* serves, and trains when it holds the training lock */
    PROCESS_API,     /* serves the published snapshots; never trains */
    PROCESS_TRAINER  /* trains when it holds the lock; serves health, metrics and admin */
};
const char *process_role_name(enum process_role r);

struct config {
    enum process_role process_role; /* XSELL_ROLE */
    char *database_url;             /* DATABASE_URL; "" means libpq's PG* defaults */
    char *train_database_url;       /* XSELL_TRAIN_DATABASE_URL: training reads the history there
                                     * (a streaming replica); NULL: DATABASE_URL */
    char *listen_host;              /* XSELL_LISTEN host part */
    uint16_t port;                  /* XSELL_LISTEN port part */
    int threads;                    /* XSELL_THREADS: HTTP thread pool */
    int retrain_s;                  /* XSELL_RETRAIN_S: 0 = only at start and on request */
    int refit_s; /* XSELL_REFIT_S: between them, runs update from the new orders; 0 = always */
    struct api_key keys[API_KEYS_MAX]; /* XSELL_API_KEYS */
    int nkeys;
    bool auth_none;               /* XSELL_AUTH=none: every request is admin */
    bool access_log;              /* XSELL_ACCESS_LOG: one line per request (default on) */
    char *cors[CORS_ORIGINS_MAX]; /* XSELL_CORS_ORIGINS */
    int ncors;
    bool cors_any;     /* "*" among the origins */
    size_t body_max;   /* XSELL_BODY_MAX, bytes */
    double rate_rps;   /* XSELL_RATE_RPS: sustained requests/s per client, 0 = off */
    double rate_burst; /* XSELL_RATE_BURST */
    double auth_fail_rps, auth_fail_burst; /* XSELL_AUTH_FAIL_RPS/_BURST: wrong keys a client */
    struct net_block trusted[TRUSTED_PROXIES_MAX]; /* XSELL_TRUSTED_PROXIES */
    int ntrusted;
    int conn_limit;            /* XSELL_CONN_LIMIT */
    int conn_per_client;       /* XSELL_CONN_PER_CLIENT: open connections from one address */
    int conn_timeout_s;        /* XSELL_CONN_TIMEOUT_S: idle connection timeout */
    double request_deadline_s; /* XSELL_REQUEST_DEADLINE_S: a request's head and body */
    int heavy_threads;         /* XSELL_HEAVY_THREADS: threads for costly requests */
    int heavy_queue;           /* XSELL_HEAVY_QUEUE: costly requests waiting, then 503 */
    size_t conn_memory;        /* per-connection memory limit for libmicrohttpd */
    int db_pool;               /* XSELL_DB_POOL: connections for request writes */
    int db_queue;              /* XSELL_DB_QUEUE: requests waiting for them, then 503 */
    double as_of; /* XSELL_AS_OF: train as of this time (a date: its end); 0 = latest order */
    int events_keep_days;     /* XSELL_EVENTS_KEEP_DAYS: events older are dropped */
    double attribution_hours; /* XSELL_ATTRIBUTION_HOURS: a click or cart add sells for this */
    double eval_holdout_days; /* XSELL_EVAL_HOLDOUT_DAYS: evaluate each run; 0 = off */
    double tune_budget_s;     /* XSELL_TUNE_BUDGET_S: the tuning's search, seconds */
    double gate_tolerance;    /* XSELL_GATE_TOLERANCE: a full run worse than the serving
                               * snapshot by more than this share on a headline figure is
                               * not published (gate.h) */
    int train_threads;        /* XSELL_TRAIN_THREADS: models fitted side by side, and the forecasts'
                               * threads (default: the cores) */
    size_t memory_max;        /* XSELL_MEMORY_MAX: training fails rather than pass it; 0 = none */
    struct model_params model; /* every model's settings (models.h's MODEL_SETTINGS) */
    char *price_truth;  /* XSELL_PRICE_TRUTH: planted elasticities (xsell gen's truth.json) */
    char *snapshot_dir; /* XSELL_SNAPSHOT_DIR: the local cache of published snapshots */
    int snapshots_keep; /* XSELL_SNAPSHOTS_KEEP: stored in the database; 0 = none stored */
    double follow_s;    /* XSELL_FOLLOW_S: a look for a newer published snapshot at least
                         * this often, besides the notifications */
};

/* The last moment training reads orders up to: XSELL_AS_OF, else now. Orders dated
 * later (a wrong clock upstream) never move the models' "today" into the future. */
double config_history_end(const struct config *c);
/* Reads the environment into c. On a bad value returns -1 with err naming it. */
int config_load(struct config *c, char *err, size_t errlen);
void config_release(struct config *c);

#endif
