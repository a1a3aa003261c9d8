import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFixture } from './fixture.test-helper.js';
import { renderHtmlReport, writeHtmlReport } from './html.js';
import { assertWellFormedXml } from './xml.test-helper.js';

test('writeHtmlReport writes report.html and result.json into a new directory', async () => {
  const root = await mkdtemp(join(tmpdir(), 'stowage-html-'));
  try {
    const dir = join(root, 'nested', 'run');
    const result = makeFixture();
    const path = await writeHtmlReport(result, dir);
    assert.equal(path, join(dir, 'report.html'));
    const html = await readFile(path, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')), JSON.parse(JSON.stringify(result)));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('the report is self-contained: inline CSS and SVG, no script, no external URL', () => {
  const html = renderHtmlReport(makeFixture());
  for (const m of html.matchAll(/\b(?:src|href)\s*=\s*["']?([^"'\s>]*)/gi)) assert.doesNotMatch(m[1] ?? '', /^(https?:)?\/\//i, `external reference ${m[0]}`);
  assert.doesNotMatch(html, /\b(?:src|href)\s*=\s*["']?https?:/i);
  assert.doesNotMatch(html, /<script|<link|<iframe|<img|@import|url\(/i);
  assert.match(html, /<style>[\s\S]+<\/style>/);
  assert.equal((html.match(/<svg xmlns=/g) ?? []).length, 5);
});

test('the report has the title, scenario and seeds, the summary table, the verdicts, the charts and how to read it', () => {
  const html = renderHtmlReport(makeFixture());
  assert.match(html, /<title>Stowage simulation: default<\/title>/);
  assert.match(html, /Scenario <strong>default<\/strong> \(embedded\)/);
  assert.match(html, /3 seeds: 1, 2, 3\./);
  assert.match(html, /<th scope="row" [^>]*>T3<\/th><td class="right">\$700 ± \$20<\/td><td class="right">41% \(38–44%\)<\/td>/);
  assert.match(html, /<li class="uptime-risk"><strong>NAIVE<\/strong> <span class="badge uptime-risk">uptime at risk<\/span> costs 2\.5% more \(1\.0–4\.0%\), uptime may be worse \(margin 0\.1 pp\)\./);
  assert.match(html, /<li class="saves"><strong>T3<\/strong> <span class="badge saves">saves, safe<\/span> saves 41% \(38–44%\), uptime non-inferior\. <span class="detail">T3 saves 41%/);
  assert.match(html, /<li class="baseline"><strong>B0<\/strong> <span class="badge baseline">baseline<\/span> default scheduler \+ autoscaler, all on-demand;/);
  for (const title of ['$/day ± CI', 'Saving vs B0', 'Node-h OD / spot', 'Req util', 'A1 % mean/worst', 'A2 % mean/worst', 'Outages n/time', 'Evictions', 'Churn vs B0', 'p99 pending']) assert.ok(html.includes(`>${title}</th>`), title);
  for (const id of ['cost-rate', 'cumulative-cost', 'nodes', 'uptime', 'saving']) assert.match(html, new RegExp(`<figure id="${id}">`));
  assert.match(html, /<h2>How to read this<\/h2>/);
  assert.match(html, /<h2>Uptime per service<\/h2>[\s\S]*<th scope="row">search<\/th>/);
});

test('every text is escaped: an arm named "<b>&" never appears raw', () => {
  const result = makeFixture({ rename: { index: 3, name: '<b>&' } });
  const html = renderHtmlReport({ ...result, scenario: { ...result.scenario, name: '<i>"x"</i>' } });
  assert.ok(!html.includes('<b>&'), 'raw arm name in the HTML');
  assert.ok(!html.includes('<i>'), 'raw scenario name in the HTML');
  assert.ok(html.includes('<strong>&lt;b&gt;&amp;</strong>'));
  assert.ok(html.includes('&lt;i&gt;&quot;x&quot;&lt;/i&gt;'));
});

test('the body nests properly (checked as XML once void elements are closed)', () => {
  const html = renderHtmlReport(makeFixture({ rename: { index: 1, name: '<b>&' } }));
  const body = /<body>[\s\S]*<\/body>/.exec(html)?.[0] ?? '';
  assertWellFormedXml(body.replace(/<(meta|br|hr|img|input|link)([^>]*?)\/?>/g, '<$1$2/>'));
});
