/**
 * vega-lite spec → vega → SVG (headless, no DOM) → PNG via resvg. resvg draws text only
 * with fonts it can load; with none it silently drops every label, so we probe once and
 * warn instead of shipping blank-axis PNGs without saying so.
 */
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface FontOptions {
  /** Extra font files (TTF/OTF) to load, e.g. when the machine has no system fonts. */
  fontFiles?: string[];
  /** Load the machine's fonts too (default true; false is for testing the no-font path). */
  systemFonts?: boolean;
}

/** Pixel zoom of the PNGs relative to the SVG size (2 ⇒ crisp on high-DPI screens and in print). */
export const PNG_ZOOM = 2;

export async function specToSvg(spec: TopLevelSpec): Promise<string> {
  const vgSpec = compile(spec, { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function resvgOptions(fonts: FontOptions, zoom: number, widthPx?: number): ResvgRenderOptions {
  return {
    background: 'white',
    fitTo: widthPx === undefined ? { mode: 'zoom', value: zoom } : { mode: 'width', value: widthPx },
    font: { loadSystemFonts: fonts.systemFonts ?? true, fontFiles: fonts.fontFiles ?? [] },
    logLevel: 'off',
  };
}

/** The SVG's own width in px (vega writes it on the root element). */
export function svgWidthPx(svg: string): number | null {
  const m = /^<svg[^>]*?\swidth="([\d.]+)"/.exec(svg);
  return m ? Number(m[1]) : null;
}

/** `maxWidthPx`: zoom down (never below 1×) so a wide chart does not become a huge, sparse PNG. */
export function svgToPng(svg: string, fonts: FontOptions = {}, zoom = PNG_ZOOM, maxWidthPx?: number): Buffer {
  const width = svgWidthPx(svg);
  const fit =
    maxWidthPx !== undefined && width !== null && width * zoom > maxWidthPx
      ? Math.round(Math.max(width, maxWidthPx))
      : undefined;
  return new Resvg(svg, resvgOptions(fonts, zoom, fit)).render().asPng();
}

const probeCache = new Map<string, boolean>();

/** True when resvg can draw text with the fonts it finds (system fonts + fontFiles). */
export function canRenderText(fonts: FontOptions = {}): boolean {
  const key = JSON.stringify([fonts.systemFonts ?? true, fonts.fontFiles ?? []]);
  const cached = probeCache.get(key);
  if (cached !== undefined) return cached;
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="30"><text x="4" y="22" font-family="sans-serif" font-size="20">Ag</text></svg>';
  const pixels = new Resvg(svg, resvgOptions(fonts, 1)).render().pixels;
  let inked = false;
  for (let i = 3; i < pixels.length && !inked; i += 4) inked = pixels[i - 3] < 128; // dark text on white
  probeCache.set(key, inked);
  return inked;
}

export const NO_FONT_WARNING =
  'no font could be loaded for the PNG charts, so their text is missing (the SVG charts and report.html are fine); ' +
  'install a font package (e.g. Debian fonts-dejavu-core) or pass a .ttf file with --font';

export async function renderChart(
  spec: TopLevelSpec,
  fonts: FontOptions = {},
  maxPngWidthPx?: number,
): Promise<{ svg: string; png: Buffer }> {
  const svg = await specToSvg(spec);
  return { svg, png: svgToPng(svg, fonts, PNG_ZOOM, maxPngWidthPx) };
}
