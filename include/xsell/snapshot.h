/* snapshot.h - one trained state of every model, immutable once published.
 *
 * A request takes a reference at its start (snapshot_take) and drops it at its end;
 * training publishes a new snapshot atomically (registry_publish) and the old one is
 * freed when its last reader lets go. Nothing in a published snapshot changes. */
#ifndef XSELL_SNAPSHOT_H
#define XSELL_SNAPSHOT_H

#include <pthread.h>
#include <stdatomic.h>

#include "xsell/arena.h"
#include "xsell/channels.h"
#include "xsell/history.h"
#include "xsell/models.h"

struct snapshot {
    atomic_int refs;
    int64_t version;            /* model_runs.version that built it */
    double trained_at;          /* when it was built */
    double as_of;               /* the time its models see as "now" */
    struct history hist;        /* catalogue and purchases */
    struct arena arena;         /* the models' memory */
    struct model_params params; /* the settings it was fitted with */
#define SNAPSHOT_MEMBER(member, type, name, deps, eval) struct type member;
    MODELS(SNAPSHOT_MEMBER) /* models.h; sales has nodes 0 when not fitted */
#undef SNAPSHOT_MEMBER
    double loaded_at;          /* when the history was read: later writes are not in it */
    double watermark;          /* the database's clock up to which it holds every order created */
    double history_end;        /* it holds orders dated up to this */
    double refit_at;           /* when the run that re-estimated every model (a full one) started */
    int64_t refit_version;     /* that run's version (its own, for a full run) */
    bool incremental;          /* updated from the serving one and the new orders */
    char *metrics_json;        /* every model's figures, as stored in model_runs */
    const char **product_json; /* per product: "product_id":..,"name":..,"category":..,"price":.. */
    uint32_t *product_json_len;
    /* per product: its forecast units over the restock horizon (XSELL_RESTOCK_DAYS; NAN
     * without a forecast), and whether they exceed its known stock (held back from
     * /recommend and /upsell) */
    float *stock_demand;
    bool *held;
    /* per product: the share of orders that hold it; the customers at risk whose
     * retention offer pays (retention.h), by its value, highest first */
    float *order_share;
    struct {
        int32_t *customer;
        float *value;
        size_t n;
    } retention;
    /* every customer per acquisition channel (channels.h; h's channels + 1 entries,
     * the last for those without one), for /churn/summary */
    struct channel_cohort *channel_all;
    size_t bytes;                     /* approximate memory held */
    size_t model_bytes[MODELS_COUNT]; /* each model's part of it */
    void *map;                        /* loaded from a file: its read-only mapping */
    size_t map_bytes;
    uint64_t file_id; /* saved or loaded: the file's id (snapfile.h), else 0 */
};

/* A new, empty snapshot with one reference (the builder's). */
struct snapshot *snapshot_new(void);
void snapshot_ref(struct snapshot *s);
/* Renders what answers repeat (product_json, the stock against demand, the retention
 * ranking, the channels' cohorts) once the models are fitted, or loaded. */
void snapshot_render(struct snapshot *s);
/* "held_back": the products hb names, with their stock, their forecast demand over the
 * restock horizon and why. */
struct jsonw;
void snapshot_write_held(struct jsonw *j, const struct snapshot *s, const struct held_back *hb);
/* Drops a reference; the last one frees. NULL is a no-op. */
void snapshot_unref(struct snapshot *s);
/* Counts snapshots freed so far (tests check that old ones go away). */
long snapshot_freed_count(void);

/* The persisted form (snapfile.h): the snapshot's own figures ("snapshot",
 * "snapshot.metrics"), the history, then each model through the registry. */
/* The sizes of everything stored whole: a file from a build where they differ is
 * refused. */
uint32_t snapshot_layout(void);
/* Writes s to path; the file's id into *id (snapfile.h). -1 with err. */
int snapshot_save(const struct snapshot *s, const char *path, uint64_t *id, char *err,
                  size_t errlen);
/* Maps path read-only and reads a snapshot from it, every section's checksum
 * checked first: one reference, the caller's; its arrays are the mapping's until
 * the last reference goes. NULL with err saying why the file is refused
 * (truncated, corrupt, another format or build). */
struct snapshot *snapshot_load(const char *path, char *err, size_t errlen);

struct registry {
    pthread_mutex_t mu;
    struct snapshot *current;
};

void registry_init(struct registry *r);
void registry_release(struct registry *r);
/* The serving snapshot with a reference for the caller, or NULL before the first. */
struct snapshot *registry_take(struct registry *r);
/* Makes s current, taking over the caller's reference; the previous one is unref'd. */
void registry_publish(struct registry *r, struct snapshot *s);
/* The same when s is newer than the current one (a higher version); else s is
 * unref'd. Whether it was published. */
bool registry_publish_newer(struct registry *r, struct snapshot *s);

#endif
