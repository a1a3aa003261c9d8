import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { makeFixture } from './fixture.test-helper.js';
import { ChartFontError, renderPng, writePngCharts } from './png.js';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from the IHDR chunk, which must come first. */
function pngSize(bytes: Buffer): { readonly width: number; readonly height: number } {
  assert.ok(bytes.subarray(0, 8).equals(PNG_SIGNATURE), 'no PNG signature');
  assert.equal(bytes.readUInt32BE(8), 13, 'IHDR length');
  assert.equal(bytes.toString('latin1', 12, 16), 'IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

test('writePngCharts writes one PNG per chart at twice the SVG size by default', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-png-'));
  try {
    const paths = await writePngCharts(makeFixture(), dir);
    assert.deepEqual(paths.map((p) => basename(p)), ['cost-rate.png', 'cumulative-cost.png', 'nodes.png', 'uptime.png', 'saving.png']);
    for (const path of paths) assert.deepEqual(pngSize(await readFile(path)), { width: 1800, height: 800 }, path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the scale option sets the pixel size', async () => {
  const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="900" height="400"><rect width="10" height="10"/></svg>';
  assert.deepEqual(pngSize(await renderPng(svg, { scale: 1 })), { width: 900, height: 400 });
});

test('chart text renders: text adds ink to the picture', async () => {
  const blank = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"></svg>';
  const word = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40"><text x="5" y="30" font-size="24" font-family="DejaVu Sans, sans-serif">Stowage</text></svg>';
  assert.ok((await renderPng(word, { scale: 1 })).length > (await renderPng(blank, { scale: 1 })).length + 200, 'the word made no difference: no font?');
});

test('a font file that renders no text is refused with a clear error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stowage-font-'));
  try {
    const notAFont = join(dir, 'not-a-font.ttf');
    await writeFile(notAFont, 'plain text');
    await assert.rejects(writePngCharts(makeFixture(), join(dir, 'out'), { fontFiles: [notAFont] }), (error: unknown) => {
      assert.ok(error instanceof ChartFontError);
      assert.match(error.message, /^Cannot render chart text: no usable font in ".*not-a-font\.ttf"; install a sans-serif font \(Debian: "fonts-dejavu-core"\) or pass "fontFiles"$/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
