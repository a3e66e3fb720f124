/* experiments.h - the experiments a process serves: the definitions read from the
 * database every EXP_REFRESH_S (and at once after a PUT in this process), each answer
 * matched against them without waiting; and an experiment's report. */
#ifndef XSELL_EXPERIMENTS_H
#define XSELL_EXPERIMENTS_H

#include <libpq-fe.h>
#include <pthread.h>

#include "xsell/experiment.h"
#include "xsell/services.h"
#include "xsell/ticker.h"

#define EXP_REFRESH_S 2.0

struct experiments {
    pthread_mutex_t mu;
    struct experiment *list; /* the definitions, by id */
    int n;
    char *url;
    struct ticker ticker; /* reads them every EXP_REFRESH_S */
    PGconn *conn;         /* the ticker's */
};

void experiments_init(struct experiments *x, const char *url);
/* Starts the thread that reads the definitions at once and every EXP_REFRESH_S; -1
 * when it cannot start. */
int experiments_start(struct experiments *x);
void experiments_release(struct experiments *x);
/* Adds or replaces one definition at once (after this process stored it). */
void experiments_set(struct experiments *x, const struct experiment *e);
/* The experiment running now on the surface whose unit the request names (customer or
 * session), and the variant the unit gets: true into out; false when none applies. */
bool experiments_pick(struct experiments *x, unsigned surface, const char *customer,
                      const char *session, double now, struct exp_pick *out);
/* The report of experiment e up to now (openapi.yaml's ExperimentReport) from the
 * database: JSON (cJSON_Delete), or NULL with err. */
cJSON *experiments_report(PGconn *conn, const struct experiment *e, double now, char *err,
                          size_t errlen);

#endif
