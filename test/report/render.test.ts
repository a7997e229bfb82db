import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  renderFig1Charts,
  renderRunReport,
  ReportInputError,
  canRenderText,
  NO_FONT_WARNING,
} from '../../src/report/index.ts';
import { escapeHtml, scopeSvgIds } from '../../src/report/html.ts';
import { svgToPng } from '../../src/report/render.ts';
import { fig1Files, fixtureFiles, makeTempDir, removeTempDirs, writeFixtureRun } from './fixture.ts';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

/** Width and height from the PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

async function expectSvg(file: string, names: string[]): Promise<string> {
  const svg = await readFile(file, 'utf8');
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  for (const n of names) expect(svg, `${path.basename(file)} should contain "${n}"`).toContain(escapeHtml(n));
  return svg;
}

async function expectPng(file: string): Promise<void> {
  const png = await readFile(file);
  expect(png.subarray(0, 8).equals(PNG_MAGIC)).toBe(true);
  const { width, height } = pngSize(png);
  expect(width).toBeGreaterThanOrEqual(400);
  expect(width).toBeLessThanOrEqual(5000);
  expect(height).toBeGreaterThanOrEqual(200);
  expect(height).toBeLessThanOrEqual(5000);
}

afterAll(removeTempDirs);

describe('renderRunReport on a synthetic run folder', () => {
  let dir: string;
  let result: { files: string[]; warnings: string[] };
  beforeAll(async () => {
    dir = await writeFixtureRun();
    result = await renderRunReport(dir);
  });

  it('writes every chart as SVG + PNG, and report.html', () => {
    const names = ['accuracy', 'accuracy_time', 'loss', 'tau', 'timeline']
      .flatMap((n) => [`${n}.svg`, `${n}.png`])
      .concat('report.html');
    expect(result.files.map((f) => path.basename(f))).toEqual(names);
    for (const f of result.files) expect(existsSync(f)).toBe(true);
    expect(result.files.every((f) => path.dirname(f) === dir)).toBe(true);
  });

  it('SVGs are SVG and name the series, axes and deadline', async () => {
    const schemes = ['adaptive (optimal)', 'ETA'];
    await expectSvg(path.join(dir, 'accuracy.svg'), [
      ...schemes,
      'test accuracy (%)',
      'global cycle',
      '96.67 %',
      '97 %',
    ]);
    await expectSvg(path.join(dir, 'accuracy_time.svg'), [
      ...schemes,
      'test accuracy (%)',
      'emulated time since the start (s)',
      '97 %',
    ]);
    await expectSvg(path.join(dir, 'loss.svg'), [...schemes, 'test loss (cross-entropy)']);
    await expectSvg(path.join(dir, 'tau.svg'), [...schemes, 'local iterations τ (per cycle)']);
    await expectSvg(path.join(dir, 'timeline.svg'), [
      ...schemes,
      'emulated time in cycle (s)',
      'deadline T = 12 s',
      'late (+1.60 s)',
      'missing',
      'compute (τ iterations)',
      'cycle 3, τ = 2',
      'learner 2 · 0.7 GHz · d=200',
    ]);
  });

  it('PNGs have the PNG signature and sane sizes', async () => {
    for (const n of ['accuracy', 'accuracy_time', 'loss', 'tau', 'timeline'])
      await expectPng(path.join(dir, `${n}.png`));
  });

  it('the timeline is ≤ 1400 px wide as PNG and the plot fills it, whatever the schemes and labels (issue 11, report item 4)', async () => {
    const svg = await readFile(path.join(dir, 'timeline.svg'), 'utf8');
    expect(svg).not.toContain('missing (no reply)');
    const width = pngSize(await readFile(path.join(dir, 'timeline.png'))).width;
    expect(width).toBeGreaterThanOrEqual(1200);
    expect(width).toBeLessThanOrEqual(1400);
    // Panels are stacked, so a third scheme and 4-digit learner ids do not widen the chart much...
    const files = fixtureFiles();
    const more = files['learners.csv']
      .split('\n')
      .map((l, i) => (i > 0 && l.startsWith('eta,') ? l.replace(/^eta,(\d+),(\d+),/, 'analytical,$1,100$2,') : l));
    const d = await writeFixtureRun({
      'learners.csv':
        files['learners.csv'] +
        more
          .slice(1)
          .filter((l) => l.startsWith('analytical'))
          .join('\n') +
        '\n',
    });
    await renderRunReport(d);
    const wide = pngSize(await readFile(path.join(d, 'timeline.png')));
    expect(wide.width).toBeLessThanOrEqual(1400);
    expect(wide.height).toBeGreaterThan(pngSize(await readFile(path.join(dir, 'timeline.png'))).height);
    // The fault plan in config.json names the cause of a missing learner.
    const config = { ...JSON.parse(files['config.json']), faults: { kill: [{ learner: 3, cycle: 3 }], drop_prob: 0 } };
    const killed = await writeFixtureRun({ 'config.json': JSON.stringify(config) });
    await renderRunReport(killed);
    await expectSvg(path.join(killed, 'timeline.svg'), ['missing: killed (--fail 3@3)']);
    // ...and a chart wider than the cap is scaled down rather than cropped.
    const svgWide =
      '<svg xmlns="http://www.w3.org/2000/svg" width="1500" height="100"><rect width="1500" height="100" fill="red"/></svg>';
    expect(pngSize(svgToPng(svgWide, {}, 2, 1400)).width).toBe(1500);
    expect(pngSize(svgToPng(svgWide.replaceAll('1500', '600'), {}, 2, 1400)).width).toBe(1200);
  });

  it('report.html is self-contained: no external URL, no script, all charts inline', async () => {
    const html = await readFile(path.join(dir, 'report.html'), 'utf8');
    // Any http(s) URL not inside an xmlns="..." namespace declaration is a reference.
    const external = html.match(/(?<!xmlns(?::\w+)?=")https?:\/\/[^\s"'<>)]*/g) ?? [];
    expect(external).toEqual([]);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|\bsrc=/i);
    expect(html).not.toMatch(/url\((?!#)/); // only in-document references such as url(#clip)
    expect(html.match(/<svg/g)).toHaveLength(5);
    expect(html).toContain('Test accuracy on the 2,000 MNIST test images'); // config test_samples, not a fixed 10,000
    expect(html).toContain('<th scope="row">ETA</th>');
    expect(html).toContain('<td>not reached</td>'); // eta never reaches 96.67 %
    expect(html).toContain('<td>97.41 %</td>');
    expect(html).toContain('&quot;W_hz&quot;: 5000000'); // the nested config, whole
    expect(html).toContain('&quot;overruns&quot;: 0'); // summary keys besides schemes
  });

  it('renders the timeline of a chosen cycle and rejects a cycle that is not there', async () => {
    const d = await writeFixtureRun();
    await renderRunReport(d, { cycle: 1 });
    await expectSvg(path.join(d, 'timeline.svg'), ['global cycle 1', 'cycle 1, τ = 2']);
    expect(await readFile(path.join(d, 'timeline.svg'), 'utf8')).not.toContain('late (+');
    const err = await renderRunReport(d, { cycle: 7 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReportInputError);
    expect((err as Error).message).toMatch(/learners\.csv: no rows for cycle 7 \(cycles present: 1–3\)/);
  });

  it('is deterministic: same input, same SVG', async () => {
    const d = await writeFixtureRun();
    await renderRunReport(d);
    const read = async (folder: string, n: string) =>
      (await readFile(path.join(folder, n), 'utf8')).replaceAll(path.basename(folder), 'RUN');
    for (const n of ['accuracy.svg', 'timeline.svg', 'report.html']) expect(await read(d, n)).toBe(await read(dir, n));
  });
});

describe('fonts for the PNGs', () => {
  it('without any font the text is gone and the report says so', async () => {
    expect(canRenderText({ systemFonts: false })).toBe(false);
    const d = await writeFixtureRun();
    const { warnings } = await renderRunReport(d, { systemFonts: false });
    expect(warnings).toEqual([NO_FONT_WARNING]);
    expect(await readFile(path.join(d, 'report.html'), 'utf8')).toContain('class="warning"');
  });

  it.runIf(existsSync(DEJAVU))('a font file alone is enough to draw text', () => {
    expect(canRenderText({ systemFonts: false, fontFiles: [DEJAVU] })).toBe(true);
    // Same SVG, with and without a font: the text must add ink.
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text x="4" y="30" font-family="Helvetica, Arial, DejaVu Sans, sans-serif" font-size="20">ETA 97 %</text></svg>';
    expect(svgToPng(svg, { systemFonts: false }).length).toBeLessThan(
      svgToPng(svg, { systemFonts: false, fontFiles: [DEJAVU] }).length,
    );
  });

  it.runIf(existsSync('/usr/share/fonts'))('system fonts draw text on this machine', () => {
    expect(canRenderText()).toBe(true);
  });

  it('a font file that does not exist is an input error', async () => {
    const d = await writeFixtureRun();
    await expect(renderRunReport(d, { fontFiles: ['/no/such/font.ttf'] })).rejects.toThrow(
      '/no/such/font.ttf: font file not found',
    );
  });
});

describe('renderFig1Charts', () => {
  it('renders τ vs K and τ vs T in the Fig. 1 layout', async () => {
    const d = await makeTempDir();
    for (const [name, text] of Object.entries(fig1Files())) await writeFile(path.join(d, name), text);
    const files = await renderFig1Charts(d);
    expect(files.map((f) => path.basename(f))).toEqual([
      'tau_vs_K.svg',
      'tau_vs_K.png',
      'tau_vs_T.svg',
      'tau_vs_T.png',
    ]);
    const schemes = ['adaptive (optimal)', 'adaptive (analytical)', 'ETA'];
    await expectSvg(files[0], [
      ...schemes,
      'T = 30 s',
      'T = 60 s',
      'number of learners K',
      'local iterations τ (per cycle)',
    ]);
    await expectSvg(files[0], ['bars: min–max where the fleets differ']);
    await expectSvg(files[2], [
      ...schemes,
      'K = 10',
      'K = 20',
      'cycle deadline T (s)',
      'all gave the same τ at every point',
    ]);
    await expectPng(files[1]);
    await expectPng(files[3]);
  });

  it('names a missing CSV', async () => {
    const d = await makeTempDir();
    await writeFile(path.join(d, 'tau_vs_K.csv'), fig1Files()['tau_vs_K.csv']);
    await expect(renderFig1Charts(d)).rejects.toThrow(`${path.join(d, 'tau_vs_T.csv')}: missing`);
  });
});

describe('scopeSvgIds', () => {
  it('prefixes ids and every reference to them', () => {
    const svg =
      '<svg><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"><use href="#clip1"/></g></svg>';
    expect(scopeSvgIds(svg, 'c0')).toBe(
      '<svg><defs><clipPath id="c0-clip1"><rect/></clipPath></defs><g clip-path="url(#c0-clip1)"><use href="#c0-clip1"/></g></svg>',
    );
  });
});
