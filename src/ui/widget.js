/* xsell's "frequently bought together" widget for a cart page:
 *
 *   <div id="xsell-fbt"></div>
 *   <script src="https://XSELL/ui/widget.js" data-key="PUBLIC_KEY" data-items="P001,P002"
 *           data-target="xsell-fbt" defer></script>
 *
 * Optional: data-limit (default 4), data-customer, data-session (else one kept in this
 * tab's sessionStorage), data-title, data-product-url ("/p/{id}": items become links),
 * data-currency (default "EUR"). Its look follows the CSS variables --xsell-accent,
 * --xsell-text, --xsell-muted, --xsell-bg, --xsell-border, --xsell-radius and
 * --xsell-font (widget.css). It sends an impression when it shows a list and a click when
 * an item is chosen (POST /events), and tells the page by the event "xsell:select" on
 * the target ({detail: {product_id, name, price, recommendation_id}}). Names and prices
 * go into the page as text, never as HTML. The public key is meant for pages: it may
 * only read recommendations and send events. */
"use strict";

(function () {
  const script = document.currentScript;
  if (!script) return;
  const data = script.dataset;
  const base = new URL(script.src, location.href).origin;
  const key = data.key || "";
  const target = (data.target && document.getElementById(data.target)) ||
    script.insertAdjacentElement("afterend", document.createElement("div"));
  const limit = Math.min(Math.max(parseInt(data.limit || "4", 10) || 4, 1), 12);
  const title = data.title || "Frequently bought together";
  const currency = data.currency || "EUR";

  function sessionId() {
    if (data.session) return data.session;
    try {
      let s = sessionStorage.getItem("xsell.session");
      if (!s) {
        s = "w-" + (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2));
        sessionStorage.setItem("xsell.session", s);
      }
      return s;
    } catch (e) {
      return "w-anonymous";
    }
  }
  const session = sessionId();

  function eventId() {
    return "w-" + (crypto.randomUUID ? crypto.randomUUID() : Date.now() + "-" + Math.random());
  }

  function send(events) {
    return fetch(base + "/events", {
      method: "POST",
      headers: { Authorization: "Bearer " + key, "Content-Type": "application/json" },
      body: JSON.stringify(events),
      keepalive: true,
      credentials: "omit",
    }).catch(() => undefined); /* a lost event never breaks the cart page */
  }

  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function price(v) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(v);
    } catch (e) {
      return Number(v).toFixed(2);
    }
  }

  function render(answer) {
    const items = answer.items || [];
    target.replaceChildren();
    if (!items.length) return;
    const headingId = "xsell-h-" + Math.random().toString(36).slice(2);
    const box = el("section", { class: "xsell-widget", "aria-labelledby": headingId });
    box.append(el("h2", { id: headingId, class: "xsell-title" }, title));
    const list = el("ul", { class: "xsell-list" });
    for (const it of items) {
      const name = it.name || it.product_id;
      const li = el("li", { class: "xsell-item" });
      const url = data.productUrl ? data.productUrl.replace("{id}", encodeURIComponent(it.product_id)) : null;
      const choose = url ? el("a", { class: "xsell-choose", href: url }) :
        el("button", { class: "xsell-choose", type: "button" });
      choose.setAttribute("aria-label", name + ", " + price(it.price));
      choose.append(el("span", { class: "xsell-name" }, name),
        el("span", { class: "xsell-price" }, price(it.price)));
      choose.addEventListener("click", () => {
        send([{ event_id: eventId(), type: "click", session_id: session,
          customer_id: data.customer || undefined, product_id: it.product_id,
          recommendation_id: answer.recommendation_id }]);
        target.dispatchEvent(new CustomEvent("xsell:select", { bubbles: true, detail: {
          product_id: it.product_id, name, price: it.price,
          recommendation_id: answer.recommendation_id } }));
      });
      li.append(choose);
      list.append(li);
    }
    box.append(list);
    target.append(box);
    send([{ event_id: eventId(), type: "impression", session_id: session,
      customer_id: data.customer || undefined, recommendation_id: answer.recommendation_id,
      items: items.map((i) => i.product_id) }]);
  }

  if (!document.querySelector("link[data-xsell-widget]")) {
    const css = el("link", { rel: "stylesheet", href: base + "/ui/widget.css" });
    css.dataset.xsellWidget = "";
    document.head.append(css);
  }
  const q = new URLSearchParams({ limit: String(limit), session_id: session, strategy: "auto" });
  if (data.items) q.set("items", data.items);
  if (data.customer) q.set("customer", data.customer);
  fetch(base + "/recommend?" + q.toString(), {
    headers: { Authorization: "Bearer " + key }, credentials: "omit",
  }).then((r) => (r.ok ? r.json() : null)).then((a) => a && render(a)).catch(() => undefined);
})();
