import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { expect, test, type Browser, type Page } from "@playwright/test";
import type Axe from "axe-core";
import type { AxeResults, Result, RunOptions } from "axe-core";

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** WCAG 2.0, 2.1 and 2.2 at levels A and AA, and axe's best practices (landmarks, headings, allowed roles…). */
const OPTIONS: RunOptions = {
  runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
  resultTypes: ["violations"],
};

/**
 * Runs axe-core on the page as it stands and fails with every violation found: the rule, its
 * impact, the elements (as selectors) and what to fix.
 *
 * With JavaScript on, axe runs in the page itself. A page with JavaScript off cannot run it, so
 * its document is copied, scripts removed, into a scratch page with JavaScript on at the same
 * address: stylesheets and images still come from the app, so colours are computed from the
 * real CSS. A page that refreshes itself is checked the same way, without its refresh.
 */
export async function expectAccessible(page: Page, label: string) {
  const results = await test.step(`axe-core: ${label}`, async () => {
    const javaScriptEnabled = test.info().project.use.javaScriptEnabled !== false;
    // A page that refreshes itself (<meta http-equiv="refresh">) could navigate away under axe.
    const live = javaScriptEnabled && !(await page.evaluate(() => document.querySelector('meta[http-equiv="refresh" i]') !== null));
    return live ? runAxe(page) : runAxeOnCopy(page);
  });
  expect(results.violations.map(describe), `axe-core found violations on ${label} (${results.url})`).toEqual([]);
  // Stacked on a phone, a row's first cell is its title and every other cell shows its column's
  // name from data-label (app.css); one without (not an actions cell, not empty) would lose it.
  const unlabeled = await page
    .locator("table.table:not(.table--grid) td:not(:first-child):not([data-label]):not(.table__actions):not(:empty)")
    .count();
  expect(unlabeled, `table cells without a data-label on ${label}`).toBe(0);
}

async function runAxe(page: Page): Promise<AxeResults> {
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE);
  return page.evaluate((options) => window.axe.run(document, options), OPTIONS);
}

/** One scratch page per browser (a test worker's), reused: it shows whatever document it is given. */
const scratchPages = new WeakMap<Browser, Promise<{ page: Page; show: (address: string, html: string) => Promise<void> }>>();

function scratchPageOf(browser: Browser) {
  let scratch = scratchPages.get(browser);
  if (!scratch) {
    scratch = (async () => {
      const context = await browser.newContext({ javaScriptEnabled: true, bypassCSP: true });
      await context.addInitScript(AXE_SOURCE);
      const page = await context.newPage();
      let document = { address: "", html: "" };
      await page.route(
        (url) => url.href.split("#")[0] === document.address,
        (route) => route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: document.html }),
      );
      const show = async (address: string, html: string) => {
        document = { address, html };
        await page.goto(address);
      };
      return { page, show };
    })();
    scratchPages.set(browser, scratch);
  }
  return scratch;
}

async function runAxeOnCopy(page: Page): Promise<AxeResults> {
  const html = (await page.content())
    .replace(/<script\b[\s\S]*?<\/script>/gi, "")
    .replace(/<link\b[^>]*\brel="modulepreload"[^>]*>/gi, "")
    .replace(/<meta\b[^>]*\bhttp-equiv="refresh"[^>]*>/gi, "");
  const browser = page.context().browser();
  if (!browser) throw new Error("expectAccessible needs a page of a launched browser");
  const scratch = await scratchPageOf(browser);
  const viewport = page.viewportSize();
  if (viewport) await scratch.page.setViewportSize(viewport);
  await scratch.show(page.url().split("#")[0]!, html);
  return runAxe(scratch.page);
}

function describe(violation: Result) {
  const nodes = violation.nodes.map((node) => {
    const summary = (node.failureSummary ?? "").split("\n").map((line) => `      ${line}`);
    return [`    ${node.target.join(" ")}`, ...summary].join("\n");
  });
  return [`${violation.id} (${violation.impact}): ${violation.help}`, ...nodes].join("\n");
}

declare global {
  interface Window {
    axe: typeof Axe;
  }
}
