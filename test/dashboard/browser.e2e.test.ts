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

/**
 * Runs in the page before its own script: records every distinct timeline title and point count the
 * page shows, so the test sees each change however late it polls (a loaded machine polls late).
 */
function recordChanges(): void {
  const w = window as unknown as { seenTitles: string[]; seenPoints: number[] };
  w.seenTitles = [];
  w.seenPoints = [];
  const look = () => {
    const title = document.querySelector('#timeline-title')?.textContent ?? '';
    if (title.includes('cycle') && w.seenTitles.at(-1) !== title) w.seenTitles.push(title);
    const points = document.querySelectorAll('#accuracy-chart circle.point').length;
    if (points > 0 && w.seenPoints.at(-1) !== points) w.seenPoints.push(points);
  };
  new MutationObserver(look).observe(document, { subtree: true, childList: true, characterData: true });
}

describe.skipIf(!CHROMIUM)('dashboard in a real browser', () => {
  it('the accuracy chart gains points and the timeline changes while a run goes, with no console error', async () => {
    // The browser starts first (the slow part on a loaded machine), so the page opens as soon as the
    // dashboard is up, while the run's learners are still starting.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    await page.addInitScript(recordChanges);

    const out = tmpDir('browser');
    // Real clock: each cycle lasts 0.25·T = 3 s of wall time, so the run (8 cycles) lasts well beyond
    // the page's load and the page watches it live.
    run = startExperiment([
      ...tiny({ K: '3', cycles: '4', schemes: 'optimal,eta', 'train-samples': '1500' }),
      ...['--clock', 'real', '--time-scale', '0.25', '--out', out, '--dashboard', '0'],
    ]);
    const [, url] = await run.when(/dashboard: (http:\/\/\S+)/);
    await page.goto(url);

    type Seen = { seenTitles: string[]; seenPoints: number[] };
    await page.waitForFunction(
      () => {
        const w = window as unknown as Seen;
        return w.seenPoints.length >= 2 && w.seenTitles.length >= 2;
      },
      null,
      { timeout: 90_000 },
    );
    const { seenTitles, seenPoints } = await page.evaluate(() => {
      const w = window as unknown as Seen;
      return { seenTitles: [...w.seenTitles], seenPoints: [...w.seenPoints] };
    });
    expect(seenPoints.at(-1)).toBeGreaterThan(seenPoints[0]);
    expect(new Set(seenTitles).size).toBeGreaterThan(1);
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
