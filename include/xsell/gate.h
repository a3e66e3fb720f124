/* gate.h - the quality gate: a full run is not published when it does worse than
 * the serving snapshot on the same recent holdout.
 *
 * Both are judged the same way, on the orders of the run's history in the last
 * XSELL_EVAL_HOLDOUT_DAYS before its latest one (the cut): each one's models fitted
 * on its own history up to the cut with its own settings - the run's on what the
 * database holds now, the serving snapshot's on what it was trained on - so that a
 * bad batch of past orders, or worse settings, shows, and neither has seen the
 * holdout. The headline figures: the served blend's next-basket recall@10 and cart
 * hit rate@10 (eval_recommend), churn_risk's AUC for "no purchase in the holdout"
 * (eval_churn_between, on the churn evaluation's longer holdout) and the mean MASE of
 * the daily forecasts of the shop and its largest categories (eval_forecast_at).
 * The run's own figures are its evaluations' (the same fit), read from its metrics.
 *
 * Worse means: a figure where higher is better below the serving one by more than
 * XSELL_GATE_TOLERANCE of it (MASE: above by more than that share). A run worse on
 * any figure is gated (not published; the serving snapshot keeps serving) unless
 * force. Not judged: nothing serves yet, the evaluations are off, or no figure could
 * be measured on both. */
#ifndef XSELL_GATE_H
#define XSELL_GATE_H

#include "xsell/config.h"
#include "xsell/snapshot.h"

enum gate_verdict { GATE_NOT_JUDGED = 0, GATE_PASSED, GATE_GATED, GATE_FORCED };

/* Judges the full run cand (not yet published) against serving (may be NULL); adds
 * "gate" to cand's metrics: the verdict, both sets of figures, the serving one's
 * whole recommendation evaluation. why: what was worse (gated or forced) or why it
 * was not judged; empty when passed. */
enum gate_verdict gate_judge(const struct config *cfg, struct snapshot *cand,
                             const struct snapshot *serving, bool force, char *why, size_t whylen);

#endif
