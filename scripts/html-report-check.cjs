#!/usr/bin/env node
// Opens a `netaudit --format html` report in a real browser (Chromium, driven by playwright-core)
// and checks it against the JSON report of the same scan: no console error, no network request,
// no dialog; the cards' counts, the table's rows and what each filter and the search leave;
// the coverage gaps and the exceptions. Optionally saves a screenshot.
//
// Usage: node scripts/html-report-check.cjs REPORT.html REPORT.json [SCREENSHOT.png]
// Env: NETAUDIT_PLAYWRIGHT (the playwright-core package directory), NETAUDIT_CHROMIUM (the browser).
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { pathToFileURL } = require("url");

const [htmlPath, jsonPath, screenshotPath] = process.argv.slice(2);
if (!htmlPath || !jsonPath) {
  console.error("usage: html-report-check.cjs REPORT.html REPORT.json [SCREENSHOT.png]");
  process.exit(2);
}
for (const name of ["NETAUDIT_PLAYWRIGHT", "NETAUDIT_CHROMIUM"]) {
  if (!process.env[name]) {
    console.error(`${name} is not set: scripts/test.sh installs and exports it`);
    process.exit(2);
  }
}
const { chromium } = require(process.env.NETAUDIT_PLAYWRIGHT);
const report = JSON.parse(fs.readFileSync(jsonPath, "utf8"));
const STATUSES = ["FAIL", "UNKNOWN", "PASS", "NOT_APPLICABLE", "MUTED"];

const failures = [];
let checks = 0;
function check(ok, what) {
  checks += 1;
  if (!ok) failures.push(what);
}
function equal(actual, expected, what) {
  check(actual === expected, `${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
}

// What a result's search text holds, as the page's search sees it (evidence values as text).
function searchable(r) {
  const evidence = Object.values(r.evidence || {}).map((v) => (typeof v === "string" ? v : JSON.stringify(v)));
  return [r.control, r.status, r.resource_id, r.resource_arn, r.account_id, r.region, r.reason, r.resource_name || ""]
    .concat(evidence)
    .join(" ")
    .toLowerCase();
}
function frameworksOf(controlId) {
  const control = report.controls.find((c) => c.id === controlId);
  return control ? control.frameworks.map((f) => f.framework) : [];
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "netaudit-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.NETAUDIT_CHROMIUM,
    headless: true,
    viewport: { width: 1360, height: 1500 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = context.pages()[0] || (await context.newPage());
    const url = pathToFileURL(path.resolve(htmlPath)).href;
    const consoleErrors = [];
    const requests = [];
    const dialogs = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") consoleErrors.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
    page.on("request", (r) => {
      if (r.url() !== url) requests.push(r.url());
    });
    page.on("dialog", (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
    await page.goto(url, { waitUntil: "load" });

    // The cards.
    for (const status of STATUSES) {
      const shown = await page.textContent(`#count-${status}`);
      equal(Number(shown), report.totals[status], `card ${status}`);
    }
    // The table: a row per result, each result's values shown literally.
    const rows = "#findings-rows > tr";
    const visible = () => page.$$eval(rows, (trs) => trs.filter((tr) => !tr.hidden).length);
    equal(await page.$$eval(rows, (trs) => trs.length), report.results.length, "table rows");
    equal(await visible(), report.results.length, "rows shown before filtering");
    const rowTexts = await page.$$eval(rows, (trs) => trs.map((tr) => tr.textContent));
    for (const r of report.results) {
      const literal = [r.resource_id, r.reason, r.resource_name || ""];
      check(
        rowTexts.some((text) => literal.every((value) => text.includes(value))),
        `no row shows ${JSON.stringify(literal)} literally`
      );
    }

    const narrowed = async (field, value, expected, what) => {
      await page.selectOption(`#filter-${field}`, value);
      equal(await visible(), expected, what);
      equal(await page.textContent("#shown-count"), `${expected} of ${report.results.length} results`, `${what}: count`);
      await page.selectOption(`#filter-${field}`, "");
    };
    // Each filter, on every value it offers.
    for (const status of STATUSES.filter((s) => report.totals[s] > 0)) {
      await narrowed("status", status, report.totals[status], `status ${status}`);
    }
    const values = (key) => [...new Set(report.results.map(key))];
    for (const control of values((r) => r.control)) {
      await narrowed("control", control, report.results.filter((r) => r.control === control).length, `control ${control}`);
    }
    for (const region of values((r) => r.region)) {
      await narrowed("region", region, report.results.filter((r) => r.region === region).length, `region ${region}`);
    }
    for (const account of values((r) => r.account_id)) {
      await narrowed("account", account, report.results.filter((r) => r.account_id === account).length, `account ${account}`);
    }
    for (const framework of [...new Set(report.results.flatMap((r) => frameworksOf(r.control)))]) {
      const expected = report.results.filter((r) => frameworksOf(r.control).includes(framework)).length;
      await narrowed("framework", framework, expected, `framework ${framework}`);
    }
    // The search, alone and with a filter.
    // A resource id that some results, not all, mention.
    const matches = (term) => report.results.filter((r) => searchable(r).includes(term));
    const term = report.results
      .map((r) => r.resource_id.toLowerCase())
      .find((id) => id !== "*" && matches(id).length < report.results.length);
    if (term) {
      const matching = matches(term);
      await page.fill("#filter-search", term.toUpperCase());
      equal(await visible(), matching.length, `search ${term}`);
      const status = matching[0].status;
      await page.selectOption("#filter-status", status);
      equal(await visible(), matching.filter((r) => r.status === status).length, `search ${term} and status ${status}`);
      await page.selectOption("#filter-status", "");
      await page.fill("#filter-search", "no-result-has-this-text");
      equal(await visible(), 0, "search for nothing");
      await page.fill("#filter-search", "");
      equal(await visible(), report.results.length, "search cleared");
    } else {
      check(report.results.length < 2, "a resource id to search for");
    }
    // A card selects its status.
    const cardStatus = STATUSES.find((s) => report.totals[s] > 0);
    if (cardStatus) {
      await page.click(`button[data-filter-status="${cardStatus}"]`);
      equal(await visible(), report.totals[cardStatus], `card ${cardStatus} clicked`);
      await page.selectOption("#filter-status", "");
    }

    // Coverage and exceptions.
    equal(await page.$$eval("#gaps tr.gap", (trs) => trs.length), report.coverage.gaps.length, "coverage gaps listed");
    const coverageText = await page.textContent("#coverage");
    for (const gap of report.coverage.gaps) {
      check(coverageText.includes(gap.api) && coverageText.includes(gap.message.trim()), `gap ${gap.api} shown`);
    }
    for (const error of report.coverage.errors) check(coverageText.includes(error), `input error ${error} shown`);
    const excepted = report.results.filter((r) => r.exception);
    equal(await page.$$eval("#muted tr.muted-result", (trs) => trs.length), excepted.length, "results under an exception");
    const exceptionsText = await page.textContent("#exceptions");
    for (const r of excepted) {
      for (const value of [r.exception.owner, r.exception.reason, r.exception.expires]) {
        check(exceptionsText.includes(value), `exception of ${r.resource_id}: ${value} shown`);
      }
    }
    const headerText = await page.textContent("header");
    if (report.source) check(headerText.includes(report.source.description), "header names what was scanned");
    if (report.scanned_at) check(headerText.includes(report.scanned_at), "header names when");
    check(headerText.includes(report.tool.version), "header names the netaudit version");
    if (report.tool.catalogue) check(headerText.includes(report.tool.catalogue), "header names the catalogue");
    equal(await page.$$eval("#chart-controls > g", (gs) => gs.length), report.controls.length, "a chart bar per control");
    if (report.framework) {
      const text = await page.textContent("#requirements");
      for (const r of report.framework.requirements) check(text.includes(r.requirement), `requirement ${r.requirement}`);
    }

    if (screenshotPath) {
      await page.mouse.move(0, 0);
      await page.evaluate(() => {
        document.activeElement.blur();
        window.scrollTo(0, 0);
      });
      await page.screenshot({ path: screenshotPath, fullPage: false });
    }
    equal(consoleErrors.join("\n"), "", "console errors");
    equal(requests.join("\n"), "", "network requests");
    equal(dialogs.join("\n"), "", "dialogs");
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  if (failures.length) {
    console.error(`${failures.length} of ${checks} checks failed:\n${failures.join("\n")}`);
    process.exit(1);
  }
  console.log(JSON.stringify({ checks, results: report.results.length }));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
