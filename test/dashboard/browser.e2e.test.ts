/**
 * The live page in a real browser: Debian's chromium, headless, driven by playwright-core, watches a
 * small run through `--dashboard`: the accuracy chart gains points, the learner timeline changes,
 * and the page logs no error. Skipped (saying why) only where no chromium is installed; CI installs it.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { startExperiment, tiny, type ExperimentProcess } from '../helpers/experiment-cli.ts';
import { tmpDir } from '../reliability/helpers.ts';

const CHROMIUM = [process.env.MEL_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p) => p && existsSync(p),
);
if (!CHROMIUM)
  console.warn(
    'browser test skipped: no chromium (apt-get install -y chromium, or set MEL_CHROMIUM to a Chromium binary)',
  );

let browser: Browser | undefined;
let run: ExperimentProcess | undefined;
afterAll(async () => {
  await browser?.close();
  if (run && run.child.exitCode === null) run.child.kill('SIGKILL');
});

describe.skipIf(!CHROMIUM)('dashboard in a real browser', () => {
  it('the accuracy chart gains points and the timeline changes while a run goes, with no console error', async () => {
    const out = tmpDir('browser');
    run = startExperiment([
      ...tiny({ K: '3', cycles: '5', schemes: 'optimal,eta', 'train-samples': '1500' }),
      '--out',
      out,
      '--dashboard',
      '0',
    ]);
    const [, url] = await run.when(/dashboard: (http:\/\/\S+)/);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    await page.goto(url);

    const points = () => page.locator('#accuracy-chart circle.point').count();
    const timeline = () => page.locator('#timeline-title').textContent();
    await page.waitForFunction(() => document.querySelectorAll('#accuracy-chart circle.point').length >= 1, null, {
      timeout: 90_000,
    });
    const firstPoints = await points();
    const firstTimeline = await timeline();
    await page.waitForFunction(
      (n) => document.querySelectorAll('#accuracy-chart circle.point').length > n,
      firstPoints,
      { timeout: 90_000 },
    );
    expect(await points()).toBeGreaterThan(firstPoints);
    await page.waitForFunction((t) => document.querySelector('#timeline-title')?.textContent !== t, firstTimeline, {
      timeout: 90_000,
    });
    expect(await timeline()).not.toBe(firstTimeline);
    expect(await page.locator('#timeline g.learner').count()).toBeGreaterThan(0);
    expect(await page.locator('#progress-text').textContent()).toMatch(/cycles done · elapsed/);
    if (process.env.MEL_SCREENSHOT) {
      mkdirSync(join(process.env.MEL_SCREENSHOT, '..'), { recursive: true });
      await page.screenshot({ path: process.env.MEL_SCREENSHOT, fullPage: true });
    }
    expect(problems).toEqual([]);
    await page.close();
    expect((await run.exit).code).toBe(0);
  });
});
