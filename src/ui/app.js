/* xsell's marketing dashboard: one page, its views chosen by the address's #fragment.
 * Every value from the API goes into the page as text (textContent, attribute values
 * set one by one), never as HTML. The key lives in this tab's sessionStorage only, and
 * travels in the Authorization header, never in a URL. */
"use strict";

(function () {
  const KEY = "xsell.key";
  const main = document.getElementById("main");
  const nav = document.getElementById("nav");
  const signout = document.getElementById("signout");

  /* --- building the page ------------------------------------------------------- */

  /* el("td", {class: "num"}, "text", child...): attributes set one by one, children
   * as text nodes or elements. */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v === null || v === undefined) continue;
      if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function num(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    return Number(v).toLocaleString("en", {
      minimumFractionDigits: digits, maximumFractionDigits: digits,
    });
  }
  const money = (v) => num(v, 2);
  const pct = (v) => (v === null || v === undefined || !isFinite(v) ? "–" : num(100 * v, 1) + "%");

  function show(title, ...content) {
    main.replaceChildren(el("h1", {}, title), ...content);
    document.title = title + " · xsell";
    for (const a of nav.querySelectorAll("a")) {
      const here = location.hash.startsWith(a.getAttribute("href"));
      if (here) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    main.focus();
  }

  function errorBox(text) {
    return el("p", { class: "error", role: "alert" }, text);
  }

  function card(label, value) {
    return el("div", { class: "card" }, el("div", { class: "label" }, label),
      el("div", { class: "value" }, value));
  }

  function table(columns, rows) {
    /* columns: [{title, num, cell(row) -> text or Node}] */
    return el("table", {},
      el("thead", {}, el("tr", {}, columns.map((c) =>
        el("th", { class: c.num ? "num" : null, scope: "col" }, c.title)))),
      el("tbody", {}, rows.map((r) => el("tr", {}, columns.map((c) =>
        el("td", { class: c.num ? "num" : null }, c.cell(r)))))));
  }

  /* --- the API ----------------------------------------------------------------- */

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  async function api(path, options) {
    const key = sessionStorage.getItem(KEY);
    const r = await fetch(path, Object.assign({
      headers: { Authorization: "Bearer " + key },
      cache: "no-store",
      credentials: "omit",
    }, options || {}));
    const type = r.headers.get("Content-Type") || "";
    const body = type.includes("json") ? await r.json() : null;
    if (!r.ok) {
      const detail = body && body.detail ? body.detail : r.status + " " + r.statusText;
      throw new ApiError(r.status, detail);
    }
    return body;
  }

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params))
      if (v !== "" && v !== null && v !== undefined) q.set(k, v);
    const s = q.toString();
    return s ? "?" + s : "";
  }

  /* The #fragment's view and its parameters: #/churn?segment=lost */
  function route() {
    const h = location.hash.replace(/^#\/?/, "");
    const [path, q] = h.split("?");
    return { parts: path.split("/").map(decodeURIComponent), params: new URLSearchParams(q || "") };
  }

  function go(path, params) {
    location.hash = "#/" + path + (params ? query(params) : "");
  }

  /* --- signing in -------------------------------------------------------------- */

  function signOut(message) {
    sessionStorage.removeItem(KEY);
    nav.hidden = true;
    signout.hidden = true;
    signInView(typeof message === "string" ? message : undefined);
  }
  signout.addEventListener("click", () => signOut());

  function signInView(message) {
    const input = el("input", {
      id: "key", type: "password", autocomplete: "off", required: true, spellcheck: "false",
    });
    const status = el("p", { role: "status", class: "note" });
    const form = el("form", { class: "signin", novalidate: true },
      el("p", {}, "Sign in with an internal or admin key. It is kept in this tab only and " +
        "forgotten when the tab closes."),
      el("label", { for: "key" }, "API key", input),
      el("button", { type: "submit", class: "primary" }, "Sign in"),
      status);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const key = input.value.trim();
      if (!key) {
        status.textContent = "Enter a key.";
        return;
      }
      sessionStorage.setItem(KEY, key);
      try {
        await api("/churn/summary");
        input.value = "";
        render();
      } catch (e) {
        sessionStorage.removeItem(KEY);
        status.textContent = e.status === 403
          ? "This key may not read the dashboard: an internal or admin key is needed."
          : "Signing in failed: " + e.message;
      }
    });
    show("Sign in", message ? errorBox(message) : "", form);
    input.focus();
  }

  /* --- customers at risk ------------------------------------------------------- */

  /* A page of a list the API pages by cursor, or null after saying that a retraining
   * since has made the cursor stale (409: the list starts again). keep: the list's
   * own parameters. */
  async function listPage(title, view, path, params, keep, ...before) {
    try {
      return await api(path + query(params));
    } catch (e) {
      if (e.status !== 409) throw e;
      show(title, ...before, errorBox("The models were retrained; the list starts again."),
        el("p", {}, el("a", { href: "#/" + view + query(keep) }, "First page")));
      return null;
    }
  }

  /* Previous and next buttons for a cursor-paged view: the earlier pages' cursors go
   * in the address ("back", "|"-joined; "-" for the first page). */
  function pagerFor(view, keep, params, nextCursor) {
    const cursor = params.get("cursor") || "";
    const back = params.get("back") || "";
    const backs = back ? back.split("|") : [];
    return el("div", { class: "pager" },
      el("button", {
        type: "button", id: "prev", disabled: backs.length === 0,
        onclick: () => {
          const to = backs[backs.length - 1];
          go(view, { ...keep, cursor: to === "-" ? "" : to, back: backs.slice(0, -1).join("|") });
        },
      }, "Previous page"),
      el("span", { class: "note", id: "page" }, "Page " + (backs.length + 1)),
      el("button", {
        type: "button", id: "next", disabled: !nextCursor,
        onclick: () => go(view, {
          ...keep, cursor: nextCursor, back: backs.concat([cursor || "-"]).join("|"),
        }),
      }, "Next page"));
  }

  const SEGMENTS = ["", "new", "active", "at_risk", "lapsing", "lost"];

  async function churnView(params) {
    const segment = params.get("segment") || "";
    const cursor = params.get("cursor") || "";
    const select = el("select", { id: "segment" }, SEGMENTS.map((s) =>
      el("option", { value: s, selected: s === segment }, s ? s.replace("_", " ") : "all")));
    select.addEventListener("change", () => go("churn", { segment: select.value }));
    const controls = el("div", { class: "controls" },
      el("label", { for: "segment" }, "Segment", select));
    const page = await listPage("Customers at risk", "churn", "/churn",
      { segment, cursor, limit: 25 }, { segment }, controls);
    if (!page) return;
    const rows = table([
      { title: "Customer", cell: (c) => el("a", { href: "#/customer/" + encodeURIComponent(c.customer_id) }, c.customer_id) },
      { title: "Segment", cell: (c) => el("span", { class: "segment" }, c.segment.replace("_", " ")) },
      { title: "Value at risk", num: true, cell: (c) => money(c.value_at_risk) },
      { title: "Churn risk", num: true, cell: (c) => pct(c.churn_risk) },
      { title: "P(alive)", num: true, cell: (c) => pct(c.p_alive) },
      { title: "Expected purchases", num: true, cell: (c) => num(c.expected_purchases, 2) },
      { title: "CLV 12 months", num: true, cell: (c) => money(c.clv_12m) },
    ], page.customers);
    const pager = pagerFor("churn", { segment }, params, page.next_cursor);
    show("Customers at risk", controls,
      el("p", { class: "note" }, "Ranked by value at risk (churn risk × 12-month value if kept), " +
        "model " + page.model + ", as of " + page.as_of + ", horizon " + page.horizon_days + " days."),
      rows, pager);
  }

  /* P(alive) through time: as it stood (solid), projected without a purchase
   * (dashed), and the purchase days that lifted it (dots). */
  function aliveChart(c) {
    const pts = c.p_alive_curve || [];
    const bought = new Set((c.purchase_days || []).map((p) => p.date));
    const lastSeen = pts.findLastIndex((p) => !p.projected);
    return chart("P(alive) of customer " + c.customer_id + " from the first purchase to " +
      c.horizon_days + " days past " + c.as_of + ", with the purchase days marked",
      pts.map((p) => p.date), [
        { label: "P(alive)", values: pts.map((p) => (p.projected ? null : p.p_alive)), color: "#1f5fbf", width: 2 },
        { label: "Without a purchase", values: pts.map((p, i) => (i >= lastSeen ? p.p_alive : null)), color: "#1f5fbf", dash: [5, 5] },
        { label: "Purchase", values: pts.map((p) => (bought.has(p.date) ? p.p_alive : null)), color: "#b35900", dots: true },
      ], [], { range: [0, 1], percent: true });
  }

  async function customerView(id) {
    const c = await api("/churn" + query({ customer: id, curve: true }));
    const days = (c.purchase_days || []).slice().reverse();
    show("Customer " + c.customer_id,
      el("p", {}, el("a", { href: "#/churn" }, "← Customers at risk")),
      el("h2", {}, "P(alive) over time"),
      aliveChart(c),
      el("div", { class: "cards" },
        card("Segment", c.segment.replace("_", " ")),
        card("P(alive)", pct(c.p_alive)),
        card("Churn risk (" + c.horizon_days + " days)", pct(c.churn_risk)),
        card("Expected purchases", num(c.expected_purchases, 2)),
        card("Expected spend a purchase", money(c.expected_spend)),
        card("CLV 12 months", money(c.clv_12m)),
        card("Value at risk", money(c.value_at_risk)),
        card("Repeat purchase days", num(c.frequency, 0)),
        card("Days since last purchase", num(c.recency_days, 0)),
        card("Days since first purchase", num(c.age_days, 0))),
      el("p", { class: "note" }, "Model " + c.model + (c.logistic_layer ? " with its logistic layer" : "") +
        ", as of " + c.as_of + ". P(alive) rises with each purchase and falls in silence; " +
        "the dashed part assumes no further purchase."),
      el("details", {}, el("summary", {}, "The last purchase days"),
        table([
          { title: "Day", cell: (p) => p.date },
          { title: "Net value", num: true, cell: (p) => money(p.value) },
        ], days)));
  }

  /* --- retention offers ------------------------------------------------------- */

  function offerText(o) {
    if (!o) return "–";
    if (o.type === "upgrade") return "Upgrade to " + (o.product.name || o.product.product_id) +
      " instead of " + (o.instead_of.name || o.instead_of.product_id);
    return pct(o.discount) + " off " + (o.product.name || o.product.product_id);
  }

  async function retentionView(params) {
    const cursor = params.get("cursor") || "";
    const page = await listPage("Retention offers", "retention", "/retention",
      { cursor, limit: 25 }, {});
    if (!page) return;
    const s = page.settings;
    show("Retention offers",
      el("p", { class: "note" }, "The customers at risk whose best offer earns more than no " +
        "offer, by its expected value over the next " + page.horizon_days + " days (" +
        num(page.total, 0) + " customers). Offer types: " + (s.offer_types.join(", ") || "none") +
        "; discounts up to " + pct(s.max_discount) + ". Customers not at risk are offered " +
        "nothing."),
      table([
        { title: "Customer", cell: (c) => el("a", { href: "#/customer/" + encodeURIComponent(c.customer_id) }, c.customer_id) },
        { title: "Segment", cell: (c) => el("span", { class: "segment" }, c.segment.replace("_", " ")) },
        { title: "Churn risk", num: true, cell: (c) => pct(c.churn_risk) },
        { title: "Offer", cell: (c) => (c.offer ? offerText(c.offer) : c.reason) },
        { title: "Offer price", num: true, cell: (c) => (c.offer ? money(c.offer.offer_price) : "–") },
        { title: "Expected value", num: true, cell: (c) => (c.offer ? money(c.offer.expected_value) : "–") },
        { title: "Why", cell: (c) => (c.offer ? c.offer.why : "") },
      ], page.customers),
      pagerFor("retention", {}, params, page.next_cursor));
  }

  /* --- forecasts --------------------------------------------------------------- */

  function chart(title, dates, series, bands, options) {
    /* series: [{label, values, color, dash, dots}] (dots: points only, no line),
     * bands: [[hiIndex, loIndex, fill]] (1-based into series, as uPlot counts them
     * after x), options: {range: [lo, hi], percent: true} for the y axis */
    const o = options || {};
    const box = el("div", { class: "chart", role: "img", "aria-label": title });
    const xs = dates.map((d) => Date.parse(d + "T00:00:00Z") / 1000);
    const width = Math.max(320, Math.min(main.clientWidth - 10, 1100));
    const opts = {
      width, height: 320,
      series: [{}].concat(series.map((s) => ({
        label: s.label, stroke: s.color, width: s.width || 1.5, dash: s.dash, spanGaps: false,
        points: s.dots ? { show: true, size: 8, fill: s.color } : { show: false },
        paths: s.dots ? () => null : undefined,
        value: o.percent ? (u, v) => pct(v) : undefined,
      }))),
      bands: bands.map(([hi, lo, fill]) => ({ series: [hi, lo], fill })),
      axes: [{}, {
        size: 70,
        values: o.percent ? (u, ticks) => ticks.map((t) => num(100 * t, 0) + "%") : undefined,
      }],
      scales: { x: { time: true }, y: o.range ? { range: o.range } : {} },
    };
    requestAnimationFrame(() => new uPlot(opts, [xs].concat(series.map((s) => s.values)), box));
    return box;
  }

  async function forecastView(params) {
    const scope = params.get("scope") || "shop";
    const id = params.get("id") || "";
    const freq = params.get("freq") || "week";
    const measure = params.get("measure") || "revenue";
    const form = el("form", { class: "controls", id: "forecast-form" },
      el("label", { for: "f-scope" }, "Scope", el("select", { id: "f-scope", name: "scope" },
        ["shop", "category", "product", "channel"].map((v) => el("option", { value: v, selected: v === scope }, v)))),
      el("label", { for: "f-id" }, "Category, product id or channel",
        el("input", { id: "f-id", name: "id", value: id, placeholder: "e.g. coffee or P001" })),
      el("label", { for: "f-freq" }, "Periods", el("select", { id: "f-freq", name: "freq" },
        ["day", "week"].map((v) => el("option", { value: v, selected: v === freq }, v)))),
      el("label", { for: "f-measure" }, "Measure", el("select", { id: "f-measure", name: "measure" },
        ["revenue", "units"].map((v) => el("option", { value: v, selected: v === measure }, v)))),
      el("button", { type: "submit", class: "primary" }, "Show"));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      go("forecast", { scope: f.get("scope"), id: f.get("id"), freq: f.get("freq"), measure: f.get("measure") });
    });
    const q = { freq, measure, history: freq === "day" ? 90 : 52, horizon: freq === "day" ? 28 : 8 };
    if (scope === "product") q.item = id;
    if (scope === "category") q.category = id;
    if (scope === "channel") q.channel = id;
    if (scope !== "shop" && !id) {
      show("Forecasts", form, el("p", {}, "Name the " + scope + " to forecast."));
      return;
    }
    const fc = await api("/forecast" + query(q));
    const hist = fc.history || [];
    const dates = hist.map((p) => p.date).concat(fc.points.map((p) => p.date));
    const pad = (values, before, after) =>
      Array(before).fill(null).concat(values, Array(after).fill(null));
    const nh = hist.length, nf = fc.points.length;
    /* the forecast line starts at the last period seen, so the two join */
    const lastSeen = nh ? hist[nh - 1].value : null;
    const fcLine = (key) => pad([lastSeen].concat(fc.points.map((p) => p[key])), nh - 1, 0);
    const what = fc.scope === "shop" ? "the shop" : fc.scope === "category" ? "category " + fc.category
      : fc.scope === "channel" ? "channel " + fc.channel : "product " + fc.product_id;
    const title = measure + " per " + freq + " of " + what + ": the last periods and the forecast with 80% and 95% intervals";
    const bt = fc.backtest || {};
    show("Forecasts", form,
      el("h2", {}, (fc.name ? fc.name + " · " : "") + what + ", " + measure + " per " + freq),
      chart(title, dates, [
        { label: "Sold", values: pad(hist.map((p) => p.value), 0, nf), color: "#1d232b" },
        { label: "Forecast", values: fcLine("mean"), color: "#1f5fbf", width: 2 },
        { label: "80% high", values: fcLine("hi80"), color: "rgba(31,95,191,0.5)", dash: [4, 4] },
        { label: "80% low", values: fcLine("lo80"), color: "rgba(31,95,191,0.5)", dash: [4, 4] },
        { label: "95% high", values: fcLine("hi95"), color: "rgba(31,95,191,0.3)", dash: [2, 4] },
        { label: "95% low", values: fcLine("lo95"), color: "rgba(31,95,191,0.3)", dash: [2, 4] },
      ], [[3, 4, "rgba(31,95,191,0.18)"], [5, 6, "rgba(31,95,191,0.08)"]]),
      el("div", { class: "cards" },
        card("Model", fc.model),
        card("Reconciliation", fc.reconciliation),
        card("Backtest sMAPE", num(bt.smape, 1) + (bt.smape !== undefined ? "%" : "")),
        card("Backtest MASE", num(bt.mase, 2)),
        card("Inside the 80% interval", pct(bt.coverage80)),
        card("Inside the 95% interval", pct(bt.coverage95))),
      fc.note ? el("p", { class: "note" }, fc.note) : "",
      el("details", {}, el("summary", {}, "The forecast as a table"),
        table([
          { title: "Period from", cell: (p) => p.date },
          { title: "Forecast", num: true, cell: (p) => num(p.mean, 1) },
          { title: "80% interval", num: true, cell: (p) => num(p.lo80, 1) + " – " + num(p.hi80, 1) },
          { title: "95% interval", num: true, cell: (p) => num(p.lo95, 1) + " – " + num(p.hi95, 1) },
        ], fc.points)));
  }

  /* --- prices ------------------------------------------------------------------ */

  async function pricesView(params) {
    const category = params.get("category") || "";
    const cursor = params.get("cursor") || "";
    const page = await api("/price" + query({ category, cursor, limit: 25 }));
    const form = el("form", { class: "controls" },
      el("label", { for: "p-cat" }, "Category", el("input", { id: "p-cat", name: "category", value: category })),
      el("button", { type: "submit" }, "Filter"));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      go("prices", { category: new FormData(form).get("category") });
    });
    show("Prices", form,
      el("p", { class: "note" }, "Products with the most expected profit to gain at the recommended " +
        "price first, within the default guardrails (the one that binds is named)."),
      table([
        { title: "Product", cell: (p) => p.product_id },
        { title: "Current", num: true, cell: (p) => money(p.current_price) },
        { title: "Recommended", num: true, cell: (p) => money(p.recommended_price) },
        { title: "Expected profit gain", num: true, cell: (p) => money(p.expected_profit_gain) },
        { title: "Elasticity", num: true, cell: (p) => p.elasticity ? num(p.elasticity.estimate, 2) : "–" },
        { title: "95% interval", num: true, cell: (p) => p.elasticity && p.elasticity.ci_low !== undefined ? num(p.elasticity.ci_low, 2) + " – " + num(p.elasticity.ci_high, 2) : "–" },
        { title: "Guardrail", cell: (p) => (p.guardrail || "none").replace("_", " ") },
        { title: "Stock", cell: (p) => (p.stock && p.stock.case !== "unknown"
          ? p.stock.case + " (" + num(p.stock.quantity, 0) + " for " + num(p.stock.forecast_units_current, 0) + " forecast)" : "–") },
      ], page.products),
      el("div", { class: "pager" },
        cursor ? el("a", { href: "#/prices" + query({ category }) }, "First page") : "",
        page.next_cursor ? el("a", { id: "prices-next", href: "#/prices" + query({ category, cursor: page.next_cursor }) }, "Next page") : ""));
  }

  /* --- experiments ------------------------------------------------------------- */

  /* Each variant's lift over the control with its interval, plain and with CUPED:
   * a dot and a bar per row, the zero line dashed (SVG built node by node). */
  function liftChart(results) {
    const rows = [];
    for (const v of results)
      if (v.vs_control)
        for (const [key, how] of [["revenue_per_unit", ""], ["revenue_per_unit_cuped", " (CUPED)"]])
          if (v.vs_control[key]) rows.push({ label: v.variant + how, e: v.vs_control[key] });
    if (!rows.length) return "";
    const NS = "http://www.w3.org/2000/svg";
    const svgEl = (tag, attrs, text) => {
      const e = document.createElementNS(NS, tag);
      for (const [k, val] of Object.entries(attrs)) e.setAttribute(k, String(val));
      if (text !== undefined) e.textContent = text;
      return e;
    };
    const lo = Math.min(0, ...rows.map((r) => r.e.lift_low));
    const hi = Math.max(0, ...rows.map((r) => r.e.lift_high));
    const pad = (hi - lo) * 0.08 || 0.05;
    const left = 170, right = 560, rowH = 34, top = 24;
    const x = (v) => left + (right - left) * (v - (lo - pad)) / (hi - lo + 2 * pad);
    const height = top + rows.length * rowH + 10;
    const svg = svgEl("svg", {
      viewBox: "0 0 800 " + height, class: "lift", role: "img",
      "aria-label": "Lift in revenue per unit over the control with 95% intervals: " +
        rows.map((r) => r.label + " " + pct(r.e.lift) + " from " + pct(r.e.lift_low) +
          " to " + pct(r.e.lift_high)).join("; "),
    });
    svg.append(svgEl("line", { x1: x(0), x2: x(0), y1: 8, y2: height - 6, class: "zero" }));
    svg.append(svgEl("text", { x: x(0), y: 14, class: "axis", "text-anchor": "middle" }, "0%"));
    rows.forEach((r, i) => {
      const y = top + i * rowH + rowH / 2;
      const kind = r.e.lift_low > 0 ? "up" : r.e.lift_high < 0 ? "down" : "flat";
      svg.append(svgEl("text", { x: 8, y: y + 4, class: "label" }, r.label));
      svg.append(svgEl("line", { x1: x(r.e.lift_low), x2: x(r.e.lift_high), y1: y, y2: y, class: "ci " + kind }));
      svg.append(svgEl("circle", { cx: x(r.e.lift), cy: y, r: 5, class: "est " + kind }));
      svg.append(svgEl("text", { x: right + 16, y: y + 4, class: "axis" },
        pct(r.e.lift) + " [" + pct(r.e.lift_low) + ", " + pct(r.e.lift_high) + "]"));
    });
    return el("figure", { class: "lift-chart" }, svg,
      el("figcaption", { class: "note" }, "Lift in revenue per unit over the control, 95% always-valid " +
        "intervals; an interval clear of 0% is a win (green) or a loss (red)."));
  }

  async function experimentsView(params) {
    const id = params.get("id");
    if (!id) {
      const list = await api("/experiments");
      const items = list.experiments || [];
      show("Experiments",
        items.length ? table([
          { title: "Experiment", cell: (e) => el("a", { href: "#/experiments" + query({ id: e.experiment_id }) }, e.experiment_id) },
          { title: "Unit", cell: (e) => e.unit },
          { title: "Variants", cell: (e) => (e.variants || []).map((v) => v.name).join(", ") },
          { title: "Start", cell: (e) => (e.start || "").slice(0, 10) },
          { title: "End", cell: (e) => (e.end || "open").slice(0, 10) },
        ], items) : el("p", {}, "No experiments yet (PUT /experiments/{id} makes one)."));
      return;
    }
    const r = await api("/experiments/" + encodeURIComponent(id) + "/report");
    const verdictClass = (v) => v === "variant wins" ? "win" : v === "control wins" ? "lose" : null;
    const interval = (e) => e ? pct(e.lift) + " [" + pct(e.lift_low) + ", " + pct(e.lift_high) + "]" : "–";
    show("Experiment " + id,
      el("p", {}, el("a", { href: "#/experiments" }, "← Experiments")),
      el("p", {}, "Verdict: ", el("strong", { class: verdictClass(r.verdict), id: "verdict" }, r.verdict),
        " · ", num(r.units, 0), " units as of " + (r.as_of || "").slice(0, 10),
        r.srm && r.srm.flagged ? el("span", { class: "lose" }, " · the split is not as planned (p " + num(r.srm.p_value, 4) + ")") : ""),
      liftChart(r.results || []),
      table([
        { title: "Variant", cell: (v) => v.variant + (v.control ? " (control)" : "") },
        { title: "Units", num: true, cell: (v) => num(v.units, 0) },
        { title: "CTR", num: true, cell: (v) => pct(v.ctr) },
        { title: "Add to cart", num: true, cell: (v) => pct(v.add_to_cart_rate) },
        { title: "Conversion", num: true, cell: (v) => pct(v.conversion) },
        { title: "Revenue a unit", num: true, cell: (v) => money(v.revenue_per_unit) },
        { title: "Lift (95%, always valid)", num: true, cell: (v) => v.vs_control ? interval(v.vs_control.revenue_per_unit) : "" },
        { title: "Lift with CUPED", num: true, cell: (v) => v.vs_control ? interval(v.vs_control.revenue_per_unit_cuped) : "" },
        { title: "Verdict", cell: (v) => v.vs_control ? el("span", { class: verdictClass(v.vs_control.verdict) }, v.vs_control.verdict) : "" },
      ], r.results || []));
  }

  /* A from/to date form for the view: the window in the address, and the form that
   * shows another one. */
  function windowForm(params, view, idPrefix, fromLabel) {
    const from = params.get("from") || "";
    const to = params.get("to") || "";
    const form = el("form", { class: "controls" },
      el("label", { for: idPrefix + "-from" }, fromLabel, el("input", { id: idPrefix + "-from", name: "from", type: "date", value: from })),
      el("label", { for: idPrefix + "-to" }, "To", el("input", { id: idPrefix + "-to", name: "to", type: "date", value: to })),
      el("button", { type: "submit", class: "primary" }, "Show"));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      go(view, { from: f.get("from"), to: f.get("to") });
    });
    return { from, to, form };
  }

  /* --- attribution ------------------------------------------------------------- */

  async function attributionView(params) {
    const { from, to, form } = windowForm(params, "attribution", "a", "From");
    const a = await api("/admin/attribution" + query({ from, to }));
    const t = a.totals, at = t.attributed;
    show("Attribution", form,
      el("p", { class: "note" }, "Sales from " + a.from.slice(0, 10) + " to " + a.to.slice(0, 10) +
        ": a line counts for a recommendation when the order names it, or when the same " +
        "customer or session clicked or added the product from one within " + a.window_hours +
        " hours before."),
      el("div", { class: "cards" },
        card("Revenue", money(t.revenue)),
        card("From recommendations", money(at.revenue)),
        card("Share of revenue", pct(at.revenue_share)),
        card("Margin from recommendations", money(at.margin)),
        card("Orders with a recommended line", num(at.orders, 0) + " of " + num(t.orders, 0))),
      el("h2", {}, "By surface and model version"),
      a.by_model.length ? table([
        { title: "Surface", cell: (m) => m.surface },
        { title: "Model version", num: true, cell: (m) => m.model_version ?? "–" },
        { title: "Orders", num: true, cell: (m) => num(m.orders, 0) },
        { title: "Revenue", num: true, cell: (m) => money(m.revenue) },
        { title: "Margin", num: true, cell: (m) => money(m.margin) },
        { title: "Named by the order", num: true, cell: (m) => num(m.how.direct || 0, 0) },
        { title: "After a click", num: true, cell: (m) => num(m.how.click || 0, 0) },
        { title: "After a cart add", num: true, cell: (m) => num(m.how.add_to_cart || 0, 0) },
      ], a.by_model) : el("p", {}, "No sale was attributed in this window."),
      el("h2", {}, "What was shown and taken"),
      table([
        { title: "Surface", cell: (s) => s.surface },
        { title: "Answers", num: true, cell: (s) => num(s.answers, 0) },
        { title: "Impressions", num: true, cell: (s) => num(s.impressions, 0) },
        { title: "Clicks", num: true, cell: (s) => num(s.clicks, 0) },
        { title: "CTR", num: true, cell: (s) => (s.impressions ? pct(s.clicks / s.impressions) : "–") },
        { title: "Cart adds", num: true, cell: (s) => num(s.add_to_carts, 0) },
      ], a.surfaces));
  }

  /* --- channels ---------------------------------------------------------------- */

  async function channelsView(params) {
    const { from, to, form } = windowForm(params, "channels", "c", "Customers won from");
    const c = await api("/channels" + query({ from, to }));
    const range = (o, f) => (o && o.ci_low !== null && o.ci_low !== undefined
      ? f(o.ci_low) + " – " + f(o.ci_high) : "–");
    show("Channels", form,
      el("p", { class: "note" }, "Customers each channel won from " + c.from.slice(0, 10) + " to " +
        c.to.slice(0, 10) + " (a customer counts where their first order came from, unless told " +
        "otherwise), whether they came back within " + c.repeat_days + " days and what they are " +
        "worth; and the orders each channel brought in that time. Intervals are 95%."),
      table([
        { title: "Channel", cell: (r) => r.channel ?? "(none)" },
        { title: "Customers won", num: true, cell: (r) => num(r.new_customers, 0) },
        { title: "Came back in " + c.repeat_days + " days", num: true, cell: (r) => pct(r.repeat_rate.estimate) },
        { title: "95% interval", num: true, cell: (r) => range(r.repeat_rate, pct) },
        { title: "CLV 12 months", num: true, cell: (r) => money(r.clv_12m.mean) },
        { title: "95% interval", num: true, cell: (r) => range(r.clv_12m, money) },
        { title: "Orders", num: true, cell: (r) => num(r.orders, 0) },
        { title: "Revenue", num: true, cell: (r) => money(r.revenue) },
        { title: "Sold by recommendations", num: true, cell: (r) => pct(r.attributed_share.estimate) },
      ], c.channels),
      el("p", {}, "Forecast a channel's sales: ", ...c.channels.filter((r) => r.channel).map((r, i) =>
        el("span", {}, i ? ", " : "", el("a", {
          href: "#/forecast" + query({ scope: "channel", id: r.channel, freq: "week", measure: "revenue" }),
        }, r.channel)))));
  }

  /* --- models ------------------------------------------------------------------ */

  /* name.path: value for every number, string and truth value under o */
  function flatten(o, prefix, out) {
    for (const [k, v] of Object.entries(o || {})) {
      const name = prefix ? prefix + "." + k : k;
      if (v !== null && typeof v === "object" && !Array.isArray(v)) flatten(v, name, out);
      else out.push([name, Array.isArray(v) ? v.map((x) => (typeof x === "number" ? num(x, 4) : x)).join(", ")
        : typeof v === "number" ? num(v, Number.isInteger(v) ? 0 : 4) : String(v)]);
    }
    return out;
  }

  /* What the serving snapshot was trained on and how its models did on the held-out
   * last weeks of the history. */
  function servingFigures(f) {
    if (!f || !f.data) return "";
    const d = f.data, ev = (f.evaluation || {}).methods || {};
    const ci = (v) => (v ? " [" + pct(v[0]) + ", " + pct(v[1]) + "]" : "");
    const fc = (f.models || {}).forecast || {};
    const gate = f.gate || {};
    return el("section", { "aria-labelledby": "serving-h" },
      el("h2", { id: "serving-h" }, "The serving snapshot"),
      el("div", { class: "cards" },
        card("Trained as of", f.as_of),
        card("Orders", num(d.orders, 0)),
        card("Order lines", num(d.lines, 0)),
        card("Customers", num(d.customers, 0)),
        card("Products", num(d.products, 0)),
        card("Run", ((f.run || {}).kind || "–") + (gate.verdict ? ", gate " + gate.verdict : "")),
        card("Weekly forecast MASE, shop", num(fc.week_mase_shop_mint, 2)),
        card("Weekly forecast inside 80%", pct(fc.week_cover80))),
      Object.keys(ev).length ? el("div", {},
        el("h3", {}, "Recommenders on the last " + f.evaluation.holdout_days + " days (held out)"),
        table([
          { title: "Method", cell: (r) => r[0].replaceAll("_", " ") },
          { title: "Hit rate at 10 (95%)", num: true, cell: (r) => pct(r[1].hit_rate_at_10) + ci(r[1].hit_rate_at_10_ci95) },
          { title: "Recall at 10", num: true, cell: (r) => pct(r[1].recall_at_10) },
          { title: "NDCG at 10", num: true, cell: (r) => num(r[1].ndcg_at_10, 3) },
          { title: "Cart hit rate at 10", num: true, cell: (r) => pct(r[1].cart_hit_rate_at_10) },
        ], Object.entries(ev))) : "",
      el("details", {}, el("summary", {}, "Every model's figures"),
        table([
          { title: "Figure", cell: (r) => r[0] },
          { title: "Value", num: true, cell: (r) => r[1] },
        ], flatten(f.models, "", []))));
  }

  async function modelsView() {
    let m;
    try {
      m = await api("/admin/models");
    } catch (e) {
      if (e.status === 403) {
        show("Models", el("p", {}, "The training runs need an admin key."));
        return;
      }
      throw e;
    }
    const status = el("p", { role: "status", class: "note", id: "train-status" });
    const train = el("button", {
      type: "button", class: "primary", id: "train",
      onclick: async () => {
        train.disabled = true;
        try {
          const r = await api("/admin/train", { method: "POST" });
          status.textContent = "Run " + r.run + " queued.";
        } catch (e) {
          status.textContent = "Could not queue a run: " + e.message;
        }
        train.disabled = false;
      },
    }, "Train now");
    show("Models",
      el("p", {}, "Serving version ", el("strong", { id: "serving" }, String(m.serving_version ?? "none")), "."),
      el("div", { class: "controls" }, train), status,
      servingFigures(m.serving_metrics),
      el("h2", {}, "Training runs"),
      table([
        { title: "Version", num: true, cell: (r) => r.version },
        { title: "Trigger", cell: (r) => r.trigger },
        { title: "Status", cell: (r) => r.status },
        { title: "Requested", cell: (r) => (r.requested_at || "").replace("T", " ").slice(0, 19) },
        { title: "Seconds", num: true, cell: (r) => num(r.seconds, 1) },
        { title: "Error", cell: (r) => r.error || "" },
      ], m.runs));
  }

  /* --- the views ---------------------------------------------------------------- */

  const views = {
    churn: (r) => churnView(r.params),
    customer: (r) => customerView(r.parts[1] || ""),
    retention: (r) => retentionView(r.params),
    forecast: (r) => forecastView(r.params),
    prices: (r) => pricesView(r.params),
    experiments: (r) => experimentsView(r.params),
    attribution: (r) => attributionView(r.params),
    channels: (r) => channelsView(r.params),
    models: () => modelsView(),
  };

  async function render() {
    if (!sessionStorage.getItem(KEY)) {
      signInView();
      return;
    }
    nav.hidden = false;
    signout.hidden = false;
    const r = route();
    const view = views[r.parts[0]];
    if (!view) {
      go("churn");
      return;
    }
    main.setAttribute("aria-busy", "true");
    try {
      await view(r);
    } catch (e) {
      if (e.status === 401) signOut("The key was refused (" + e.message + "): sign in again.");
      else show("Something went wrong", errorBox(e.message));
    } finally {
      main.removeAttribute("aria-busy");
    }
  }

  window.addEventListener("hashchange", render);
  render();
})();
