/**
 * The charts as PNG files, rendered from the same SVG as the HTML report with resvg (Rust, shipped
 * inside its npm package: no browser, no download). Text needs a font file on the machine: DejaVu
 * Sans (Debian's `fonts-dejavu-core`) when present, else another common sans font, else whatever
 * the system has; with none at all the charts would lose every label, so that is an error.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type * as ResvgModule from '@resvg/resvg-js';
import type { ResvgRenderOptions } from '@resvg/resvg-js';
import type { SimulationResult } from '../sim/result.js';
import { renderCharts } from './svg.js';

/** How {@link writePngCharts} renders. */
export interface PngOptions {
  /** Device pixels per SVG pixel. Default 2: a 900×400 chart becomes an 1800×800 PNG. */
  readonly scale?: number;
  /** Font files for chart text; default: the first of {@link FONT_CANDIDATES} found, else the system's fonts. */
  readonly fontFiles?: readonly string[];
}

/** No font could render the charts' text. */
export class ChartFontError extends Error {
  override readonly name = 'ChartFontError';
  readonly fontFiles: readonly string[];

  constructor(fontFiles: readonly string[]) {
    const tried = fontFiles.length === 0 ? 'the system fonts' : fontFiles.map((f) => `"${f}"`).join(', ');
    super(`Cannot render chart text: no usable font in ${tried}; install a sans-serif font (Debian: "fonts-dejavu-core") or pass "fontFiles"`);
    this.fontFiles = fontFiles;
  }
}

/**
 * Font files tried in order, each a regular and a bold face of one family. DejaVu Sans first: the
 * SVG asks for it, Debian images ship it, and its metrics are what the chart layout assumes.
 */
export const FONT_CANDIDATES: readonly (readonly string[])[] = [
  ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'],
  ['/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf', '/usr/share/fonts/dejavu-sans-fonts/DejaVuSans-Bold.ttf'],
  ['/usr/share/fonts/TTF/DejaVuSans.ttf', '/usr/share/fonts/TTF/DejaVuSans-Bold.ttf'],
  ['/usr/share/fonts/dejavu/DejaVuSans.ttf', '/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf'],
  ['/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf'],
  ['/System/Library/Fonts/Supplemental/Verdana.ttf', '/System/Library/Fonts/Supplemental/Verdana Bold.ttf'],
  ['C:\\Windows\\Fonts\\verdana.ttf', 'C:\\Windows\\Fonts\\verdanab.ttf'],
];

/**
 * Renders every chart of the report to `<id>.png` in `dir` (created if missing) and returns the
 * absolute paths, in the report's order.
 *
 * @throws {ChartFontError} when no font renders text, rather than writing charts without labels
 * @example const paths = await writePngCharts(result, 'reports/run-1');
 */
export async function writePngCharts(result: SimulationResult, dir: string, options: PngOptions = {}): Promise<readonly string[]> {
  await resolveFont(options.fontFiles); // fail before writing anything
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const chart of renderCharts(result)) {
    const path = resolve(join(dir, `${chart.id}.png`));
    await writeFile(path, await renderPng(chart.svg, options));
    paths.push(path);
  }
  return paths;
}

/**
 * Rasterises one SVG document to PNG bytes on a white background.
 *
 * @throws {ChartFontError} when no font renders text
 */
export async function renderPng(svg: string, options: PngOptions = {}): Promise<Buffer> {
  const font = await resolveFont(options.fontFiles);
  const scale = options.scale ?? 2;
  const { Resvg } = await _resvg();
  const resvg = new Resvg(svg, {
    font,
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    shapeRendering: 2,
    textRendering: 1,
  });
  return resvg.render().asPng();
}

const _fontCheck = new Map<string, boolean>();

/**
 * The font options resvg gets: the given files, else the first candidate pair present, else the
 * system fonts; checked once per process by rendering a word and looking for ink.
 *
 * @throws {ChartFontError} when the chosen fonts render no text
 */
export async function resolveFont(fontFiles?: readonly string[]): Promise<NonNullable<ResvgRenderOptions['font']>> {
  const files = fontFiles ?? FONT_CANDIDATES.find((pair) => pair.every((f) => existsSync(f))) ?? FONT_CANDIDATES.map((pair) => pair.filter((f) => existsSync(f))).find((pair) => pair.length > 0);
  const font = files === undefined || files.length === 0 ? { loadSystemFonts: true } : { loadSystemFonts: false, fontFiles: [...files] };
  const key = JSON.stringify(font);
  let ok = _fontCheck.get(key);
  if (ok === undefined) {
    ok = await _rendersText(font);
    _fontCheck.set(key, ok);
  }
  if (!ok) throw new ChartFontError(font.fontFiles ?? []);
  return font;
}

async function _rendersText(font: NonNullable<ResvgRenderOptions['font']>): Promise<boolean> {
  const { Resvg } = await _resvg();
  const probe = '<svg xmlns="http://www.w3.org/2000/svg" width="60" height="30"><text x="4" y="22" font-size="20" font-family="DejaVu Sans, sans-serif">Hg</text></svg>';
  const pixels = new Resvg(probe, { font, background: '#ffffff' }).render().pixels;
  for (let i = 0; i < pixels.length; i += 4) if ((pixels[i] ?? 255) < 128) return true;
  return false;
}

/**
 * Loads resvg on first use, so that importing the reports (for the terminal table, say) never
 * depends on a native add-on loading.
 */
function _resvg(): Promise<typeof ResvgModule> {
  return import('@resvg/resvg-js');
}
