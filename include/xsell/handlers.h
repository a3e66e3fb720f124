/* handlers.h - one function per route (see the table in router.c). Each parses and
 * validates its request, asks its snapshot's models or services.h, and renders the
 * answer. */
#ifndef XSELL_HANDLERS_H
#define XSELL_HANDLERS_H

#include "xsell/request.h"

int handle_healthz(struct request *req);
int handle_readyz(struct request *req);
int handle_metrics(struct request *req);
int handle_openapi(struct request *req);
int handle_recommend(struct request *req);
int handle_upsell(struct request *req);
int handle_churn(struct request *req);
int handle_churn_summary(struct request *req);
int handle_channels(struct request *req);
int handle_retention(struct request *req);
int handle_price(struct request *req);
int handle_forecast_post(struct request *req);
int handle_forecast_get(struct request *req);
int handle_orders_post(struct request *req);
int handle_events_post(struct request *req);
int handle_product_put(struct request *req);
int handle_product_patch(struct request *req);
int handle_order_delete(struct request *req);
int handle_product_delete(struct request *req);
int handle_customer_delete(struct request *req);
int handle_admin_train(struct request *req);
int handle_admin_models(struct request *req);
int handle_admin_attribution(struct request *req);
int handle_experiment_put(struct request *req);
int handle_experiments_list(struct request *req);
int handle_experiment_report(struct request *req);
int handle_ui_index(struct request *req);
int handle_ui_redirect(struct request *req);
int handle_ui_file(struct request *req);
int handle_docs(struct request *req);

#endif
