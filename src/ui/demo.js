/* The demo cart page: asks for a public key (kept in this tab), then embeds the widget
 * as a shop would, with the cart's products; a chosen item joins the cart. */
"use strict";
(function () {
  const form = document.getElementById("keyform");
  const input = document.getElementById("pubkey");
  const cart = document.getElementById("cart");
  const target = document.getElementById("xsell-fbt");

  function embed(key) {
    const items = Array.from(cart.querySelectorAll("li")).map((li) => li.dataset.id);
    const s = document.createElement("script");
    s.src = "/ui/widget.js";
    s.dataset.key = key;
    s.dataset.items = items.join(",");
    s.dataset.target = "xsell-fbt";
    document.body.append(s);
  }

  target.addEventListener("xsell:select", (ev) => {
    const li = document.createElement("li");
    li.dataset.id = ev.detail.product_id;
    li.textContent = ev.detail.name;
    cart.append(li);
    document.getElementById("added").textContent = ev.detail.name + " added to the cart.";
  });

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem("xsell.demo.key", input.value.trim());
    input.value = "";
    form.hidden = true;
    embed(sessionStorage.getItem("xsell.demo.key"));
  });
  const kept = sessionStorage.getItem("xsell.demo.key");
  if (kept) {
    form.hidden = true;
    embed(kept);
  }
})();
