/* fixture.c - see fixture.h. */
#include "contract/fixture.h"

#include "xsell/app.h"
#include "xsell/router.h"

struct snapshot *fixture_snapshot_fit(int threads)
{
    struct snapshot *s = snapshot_new();
    struct history *h = &s->hist;
    static const char *cats[] = {"tea", "coffee", "garden"};
    char id[16], order[16], cust[16];
    for (int p = 0; p < 30; p++) {
        snprintf(id, sizeof(id), "P%d", p);
        history_add_product(h, id, id, cats[p % 3], 1.0 + p, 0.5 + p / 2.0, p % 7 != 0);
    }
    for (int o = 0; o < 200; o++) {
        snprintf(order, sizeof(order), "O%d", o);
        snprintf(cust, sizeof(cust), "C%d", o % 17);
        for (int k = 0; k < 1 + o % 3; k++) {
            snprintf(id, sizeof(id), "P%d", (o * 7 + k * 3) % 30);
            history_add_line(h, order, o % 5 ? cust : "", 86400.0 * o, id, 1, 2.0);
        }
        static const char *channels[] = {"email", "search", NULL};
        history_set_last_channel(h, channels[o % 3]);
    }
    history_set_acquisition(h, "C3", "social");
    history_set_stock(h, idmap_find(&h->products, "P2", 2), 0);          /* held back */
    history_set_stock(h, idmap_find(&h->products, "P4", 2), 1000000000); /* overstocked */
    history_finish(h);
    /* every model through the registry, as training fits them */
    struct model_params mp;
    struct model_figures figs;
    char err[300];
    model_params_defaults(&mp);
    mp.as_of = 86400.0 * 200;
    mp.assoc_min_count = 2;
    mp.churn_horizon_days = 30;
    mp.threads = threads;
    mp.forecast_threads = threads; /* GET /forecast reads the sales forecasts */
    if (models_fit(s, &mp, false, &figs, err, sizeof(err))) {
        fprintf(stderr, "fixture: %s\n", err);
        abort();
    }
    snapshot_render(s);
    s->version = 1;
    s->metrics_json = strdup("{\"version\":1}");
    return s;
}

struct snapshot *fixture_snapshot(void)
{
    return fixture_snapshot_fit(1);
}

static struct app offline; /* process lifetime, as in serve */

static void offline_init(void)
{
    db_pool_init(&offline.pool, "host=/nonexistent-xsell-test connect_timeout=1", 1);
    recent_init(&offline.recent);
    recent_init(&offline.sessions);
    metrics_init(&offline.metrics);
    answer_log_init(&offline.answers, "");         /* gathers rows, never started: none written */
    experiments_init(&offline.experiments, "");    /* none, never read */
    pthread_mutex_init(&offline.trainer.mu, NULL); /* a trainer that never runs */
    pthread_cond_init(&offline.trainer.cv, NULL);
    app_wire_services(&offline);
}

struct services *fixture_offline_services(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, offline_init);
    return &offline.svc;
}

void fixture_request(struct request *req, struct services *svc, const struct snapshot *snap,
                     const char *method, const char *target, const char *body)
{
    memset(req, 0, sizeof(*req));
    arena_init(&req->arena);
    req->svc = svc;
    req->snap = snap;
    req->method = method;
    snprintf(req->id, sizeof(req->id), "test");
    size_t plen = strcspn(target, "?");
    req->path = arena_strndup(&req->arena, target, plen);
    char *p = target[plen] ? arena_strdup(&req->arena, target + plen + 1) : NULL;
    while (p && *p && req->nparams < PARAMS_MAX) {
        char *amp = strchr(p, '&');
        if (amp)
            *amp = '\0';
        char *eq = strchr(p, '=');
        if (eq)
            *eq = '\0';
        req->params[req->nparams].name = p;
        req->params[req->nparams].value = eq ? eq + 1 : "";
        req->nparams++;
        p = amp ? amp + 1 : NULL;
    }
    char allow[128];
    bool known;
    const char *arg = NULL;
    req->route = router_match(method, req->path, &arg, &known, allow, sizeof(allow));
    req->path_arg = arg ? arena_strndup(&req->arena, arg, strcspn(arg, "/")) : NULL;
    buf_init(&req->body, 1 << 20);
    if (body)
        buf_append(&req->body, body, strlen(body));
}

void fixture_request_release(struct request *req)
{
    free(req->resp_body);
    buf_release(&req->body);
    arena_release(&req->arena);
}
