// The dashboard in Debian's Chromium (run by run.sh, which serves the demo shop at
// XSELL_URL with the keys below): signing in, the at-risk list and its pages, a
// customer and the chart of their P(alive), a forecast chart that is drawn, the price
// table, the simulated experiment's verdict and lift chart, attribution, the models and
// a training run, the security headers, names made of markup shown as text, no console
// errors or blocked content, and axe-core finding no serious accessibility violation
// on each page.
// Prints cmocka-style counts for tests/run.sh; screenshots into SCREENSHOTS.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const base = process.env.XSELL_URL;
const shots = process.env.SCREENSHOTS;
const INTERNAL = "int-browser";
const ADMIN = "adm-browser";

let passed = 0;
const failures = [];

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function test(name, fn) {
  process.stdout.write(`[ RUN      ] ${name}\n`);
  try {
    await fn();
    passed++;
    process.stdout.write(`[       OK ] ${name}\n`);
  } catch (e) {
    failures.push(name);
    process.stdout.write(`[  FAILED  ] ${name}: ${e.stack || e}\n`);
  }
}

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

/* A page that records console errors and blocked content (CSP). */
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") page.problems.push(m.text());
  });
  page.on("pageerror", (e) => page.problems.push(String(e)));
  return page;
}

/* axe-core's serious and critical violations on the page as it is. */
async function axe(page, name) {
  await page.evaluate(axeSource); /* through DevTools, not a <script>: CSP stays strict */
  const result = await page.evaluate(async () =>
    (await window.axe.run(document, { resultTypes: ["violations"] })).violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => `${v.id}: ${v.help} (${v.nodes.length})`));
  check(result.length === 0, `axe on ${name}: ${result.join("; ")}`);
}

async function signIn(page, key) {
  await page.goto(base + "/ui/");
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForSelector("#nav:not([hidden])");
}

/* The canvas's painted pixels (a chart that was drawn has thousands). */
async function inked(page, selector) {
  await page.waitForSelector(selector);
  return page.$eval(selector, (c) => {
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) n += d[i] > 0;
    return n;
  });
}

const HOSTILE = "<img src=x onerror=window.xssRan=1>";

/* Markup from the API shows as text: the element under selector reads it literally and
 * holds no element made from it. */
async function shownAsText(page, selector, what) {
  const r = await page.$eval(selector, (e) => ({
    text: e.textContent, imgs: e.querySelectorAll("img, b").length, ran: window.xssRan,
  }));
  check(r.text.includes(HOSTILE) && r.imgs === 0 && r.ran === undefined,
    `${what}: markup became elements (${JSON.stringify(r)})`);
}

/* Goes to a dashboard view (#/...) and waits until the view titled title is shown. */
async function open(page, hash, title) {
  await page.goto(base + "/ui/" + hash);
  await page.waitForFunction((t) => document.title === t + " · xsell" &&
    !document.getElementById("main").hasAttribute("aria-busy"), title);
}

async function rows(page) {
  await page.waitForSelector("main table tbody tr");
  return page.$$eval("main table tbody tr", (trs) => trs.map((tr) => tr.textContent));
}

await test("headers", async () => {
  const page = await newPage();
  const r = await page.goto(base + "/ui/");
  const h = r.headers();
  check(r.status() === 200, "status " + r.status());
  check(h["content-type"].startsWith("text/html"), "type " + h["content-type"]);
  const csp = h["content-security-policy"] || "";
  check(csp.includes("script-src 'self'") && !csp.includes("unsafe"), "CSP " + csp);
  check(h["x-content-type-options"] === "nosniff", "nosniff");
  const missing = await page.request.get(base + "/ui/nothing.js");
  check(missing.status() === 404, "a missing file: " + missing.status());
  await axe(page, "sign-in");
  await page.screenshot({ path: `${shots}/signin.png` });
  check(page.problems.length === 0, page.problems.join("; "));
  await page.context().close();
});

await test("sign-in refuses a bad key and keeps none", async () => {
  const page = await newPage();
  await page.goto(base + "/ui/");
  await page.getByLabel("API key").fill("not-a-key");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForFunction(() => document.querySelector("main [role=status]").textContent.includes("failed"));
  page.problems = []; /* the browser logs the 401 it was meant to get */
  const stored = await page.evaluate(() => [sessionStorage.length, localStorage.length]);
  check(stored[0] === 0 && stored[1] === 0, "storage " + stored);
  check(!page.url().includes("not-a-key"), "the key in the URL");
  await page.context().close();
});

await test("customers at risk, paged, and one customer", async () => {
  const page = await newPage();
  await signIn(page, INTERNAL);
  const first = await rows(page);
  check(first.length === 25, "rows " + first.length);
  await page.getByRole("button", { name: "Next page" }).click();
  await page.waitForFunction(() => document.getElementById("page")?.textContent === "Page 2");
  const second = await rows(page);
  check(second[0] !== first[0], "page 2 repeats page 1");
  await page.getByRole("button", { name: "Previous page" }).click();
  await page.waitForFunction(() => document.getElementById("page")?.textContent === "Page 1");
  check((await rows(page))[0] === first[0], "back to page 1");
  await page.selectOption("#segment", "lost");
  await page.waitForFunction(() => location.hash.includes("segment=lost"));
  const lost = await rows(page);
  check(lost.every((t) => t.includes("lost")), "segment filter");
  await axe(page, "churn");
  await page.screenshot({ path: `${shots}/churn.png`, fullPage: true });
  await page.locator("main table tbody tr a").first().click();
  await page.waitForSelector(".cards .card");
  const cards = await page.$$eval(".card .label", (ls) => ls.map((l) => l.textContent));
  check(cards.includes("P(alive)") && cards.includes("CLV 12 months"), "cards " + cards);
  const alive = await inked(page, ".chart canvas");
  check(alive > 1500, "P(alive) chart pixels drawn: " + alive);
  const days = await page.$$eval("details table tbody tr", (trs) => trs.length);
  check(days >= 1, "purchase days " + days);
  await axe(page, "customer");
  await page.screenshot({ path: `${shots}/customer.png`, fullPage: true });
  check(!page.url().includes(INTERNAL), "the key in the URL");
  check(page.problems.length === 0, page.problems.join("; "));
  await page.context().close();
});

await test("retention offers, paged", async () => {
  const page = await newPage();
  await signIn(page, INTERNAL);
  await open(page, "#/retention", "Retention offers");
  const first = await rows(page);
  check(first.length === 25, "rows " + first.length);
  check(first.every((t) => /(% off |Upgrade to )/.test(t) && t.includes("expected")),
    "every row an offer with its reasoning: " + first[0]);
  check(first.every((t) => !t.includes("active")), "a customer not at risk offered something");
  await page.screenshot({ path: `${shots}/retention.png` }); /* the first rows are enough to see */
  await page.getByRole("button", { name: "Next page" }).click();
  await page.waitForFunction(() => document.getElementById("page")?.textContent === "Page 2");
  check((await rows(page))[0] !== first[0], "page 2 repeats page 1");
  const made = await page.$eval("main table", (e) => [e.querySelectorAll("img, b").length, window.xssRan]);
  check(made[0] === 0 && made[1] === undefined, "markup became elements: " + made);
  await axe(page, "retention");
  check(page.problems.length === 0, page.problems.join("; "));
  await page.context().close();
});

await test("a forecast chart is drawn", async () => {
  const page = await newPage();
  await signIn(page, INTERNAL);
  await open(page, "#/forecast?scope=category&id=coffee&freq=week&measure=revenue", "Forecasts");
  const drawn = await inked(page, ".chart canvas");
  check(drawn > 2000, "pixels drawn: " + drawn);
  const cards = await page.$$eval(".card .label", (ls) => ls.map((l) => l.textContent));
  check(cards.includes("Backtest MASE"), "backtest figures");
  await axe(page, "forecast");
  await page.screenshot({ path: `${shots}/forecast.png`, fullPage: true });
  /* a product whose name is markup */
  await page.goto(base + "/ui/#/forecast?scope=product&id=P004&freq=week&measure=units");
  await page.waitForFunction(() => document.querySelector("main h2")?.textContent.includes("P004"));
  await shownAsText(page, "main h2", "the product's name");
  check(page.problems.length === 0, page.problems.join("; "));
  await page.context().close();
});

await test("prices and experiments", async () => {
  const page = await newPage();
  await signIn(page, INTERNAL);
  await open(page, "#/prices", "Prices");
  const prices = await rows(page);
  check(prices.length > 0, "price rows");
  const heads = await page.$$eval("main th", (th) => th.map((t) => t.textContent));
  check(heads.includes("Guardrail") && heads.includes("Expected profit gain"), "columns " + heads);
  await axe(page, "prices");
  await page.screenshot({ path: `${shots}/prices.png`, fullPage: true });
  await open(page, "#/experiments", "Experiments");
  const ids = await rows(page);
  check(ids.some((t) => t.startsWith("sim")), "experiments " + ids);
  await shownAsText(page, "main table", "an experiment's id and variants");
  await axe(page, "experiments");
  /* the simulated experiment: its planted lift found, drawn with its intervals */
  await page.getByRole("link", { name: "sim", exact: true }).click();
  await page.waitForFunction(() => document.title === "Experiment sim · xsell");
  await page.waitForSelector("#verdict");
  const verdict = await page.$eval("#verdict", (e) => e.textContent);
  check(verdict === "variant wins", "verdict " + verdict);
  const dots = await page.$$eval("svg.lift circle", (cs) => cs.map((c) => c.getAttribute("class")));
  check(dots.length === 2 && dots.every((c) => c === "est up"), "lift chart " + dots);
  const label = await page.$eval("svg.lift", (e) => e.getAttribute("aria-label"));
  check(label.includes("treatment (CUPED)"), "lift chart label " + label);
  await axe(page, "experiment report");
  await page.screenshot({ path: `${shots}/experiment.png`, fullPage: true });
  /* the report of the one named in markup */
  await open(page, "#/experiments?id=" + encodeURIComponent(HOSTILE), "Experiment " + HOSTILE);
  await page.waitForSelector("#verdict");
  await shownAsText(page, "main", "the report's id and variants");
  check(page.problems.length === 0, page.problems.join("; "));
  await page.context().close();
});

await test("attribution", async () => {
  const page = await newPage();
  await signIn(page, INTERNAL);
  await open(page, "#/attribution?from=2025-10-30&to=2025-11-27", "Attribution");
  const byModel = await rows(page);
  check(byModel.length >= 1 && byModel[0].startsWith("recommend"), "by model " + byModel);
  const cards = await page.$$eval(".card", (cs) => Object.fromEntries(cs.map((c) =>
    [c.querySelector(".label").textContent, c.querySelector(".value").textContent])));
  const share = parseFloat(cards["Share of revenue"]);
  check(share > 5 && share < 60, "share of revenue " + cards["Share of revenue"]);
  await axe(page, "attribution");
  await page.screenshot({ path: `${shots}/attribution.png`, fullPage: true });
  check(page.problems.length === 0, page.problems.join("; "));
  await page.context().close();
});

await test("channels and a channel's forecast", async () => {
  const page = await newPage();
  await signIn(page, INTERNAL);
  await open(page, "#/channels?from=2023-01-01", "Channels");
  const names = (await rows(page)).map((t) => t.split(/[0-9]/)[0]);
  for (const c of ["email", "search", "direct", "social"])
    check(names.includes(c), "channel " + c + " in " + names);
  await axe(page, "channels");
  await page.screenshot({ path: `${shots}/channels.png`, fullPage: true });
  await page.getByRole("link", { name: "email", exact: true }).click();
  await page.waitForFunction(() => document.querySelector("main h2")?.textContent.includes("channel email"));
  const drawn = await inked(page, ".chart canvas");
  check(drawn > 2000, "channel forecast pixels drawn: " + drawn);
  check(page.problems.length === 0, page.problems.join("; "));
  await page.context().close();
});

await test("models: an admin starts a run", async () => {
  const page = await newPage();
  await signIn(page, INTERNAL);
  await page.goto(base + "/ui/#/models");
  await page.waitForFunction(() => document.querySelector("main").textContent.includes("admin key"));
  page.problems = []; /* the browser logs the 403 it was meant to get */
  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, ADMIN);
  await open(page, "#/models", "Models");
  const runs = await page.$$eval("main > table tbody tr", (trs) => trs.length);
  check(runs > 0, "runs " + runs);
  const methods = await page.$$eval("section table tbody tr td:first-child", (tds) => tds.map((t) => t.textContent));
  check(methods.includes("basket rules") && methods.includes("popularity"), "evaluated methods " + methods);
  await page.getByRole("button", { name: "Train now" }).click();
  await page.waitForFunction(() => /Run \d+ queued/.test(document.getElementById("train-status").textContent));
  await axe(page, "models");
  await page.screenshot({ path: `${shots}/models.png`, fullPage: true });
  check(page.problems.length === 0, page.problems.join("; "));
  await page.context().close();
});

await test("the widget on the demo cart page", async () => {
  const page = await newPage();
  await page.goto(base + "/ui/demo");
  await page.getByLabel("Public key").fill("pub-browser");
  const impression = page.waitForResponse((r) => r.url().endsWith("/events") &&
    (r.request().postData() || "").includes('"impression"'));
  await page.getByRole("button", { name: "Show the widget" }).click();
  await page.waitForSelector(".xsell-widget .xsell-item");
  check((await impression).status() === 201, "the impression was not stored");
  const items = await page.$$eval(".xsell-choose", (bs) => bs.map((b) => b.getAttribute("aria-label")));
  check(items.length >= 1 && items.every((l) => /,/.test(l)), "items " + items);
  check(items.some((l) => l.includes(HOSTILE)), "the product named in markup is not shown: " + items);
  await shownAsText(page, ".xsell-widget", "the widget's names");
  const heading = await page.$eval(".xsell-widget", (s) =>
    document.getElementById(s.getAttribute("aria-labelledby")).textContent);
  check(heading === "Frequently bought together", "heading " + heading);
  /* the theme's variable reaches the widget */
  const radius = await page.$eval(".xsell-choose", (b) => getComputedStyle(b).borderTopLeftRadius);
  check(radius === "10px", "radius " + radius);
  await axe(page, "widget");
  await page.screenshot({ path: `${shots}/widget.png`, fullPage: true });
  /* by keyboard: the first item chosen with Enter sends a click and joins the cart */
  const click = page.waitForResponse((r) => r.url().endsWith("/events") &&
    (r.request().postData() || "").includes('"click"'));
  await page.focus(".xsell-choose");
  await page.keyboard.press("Enter");
  check((await click).status() === 201, "the click was not stored");
  await page.waitForFunction(() => document.getElementById("added").textContent.includes("added"));
  check(page.problems.length === 0, page.problems.join("; "));
  await page.context().close();
});

await test("/docs renders the API reference", async () => {
  const page = await newPage();
  const r = await page.goto(base + "/docs");
  check((r.headers()["content-security-policy"] || "").includes("script-src 'self'"), "CSP");
  await page.waitForSelector(".swagger-ui .opblock");
  const ops = await page.$$eval(".swagger-ui .opblock-summary-path", (ps) => ps.map((p) => p.textContent));
  check(ops.some((p) => p.includes("/recommend")) && ops.length >= 20, "operations " + ops.length);
  await axe(page, "docs");
  await page.screenshot({ path: `${shots}/docs.png` });
  check(page.problems.length === 0, page.problems.join("; "));
  await page.context().close();
});

await browser.close();
process.stdout.write(`[  PASSED  ] ${passed} test(s).\n`);
if (failures.length) {
  process.stdout.write(`[  FAILED  ] ${failures.length} test(s), listed below:\n`);
  for (const f of failures) process.stdout.write(`[  FAILED  ] ${f}\n`);
  process.exit(1);
}
