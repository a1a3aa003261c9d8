/**
 * The placement webhook under a flood on loopback, with nothing else on the machine's two cores
 * but the flood's clients: the server of `stowage webhook` (its HTTPS server, pre-scan, parse
 * worker and admitter, over a synthetic cluster of 1,000 nodes and 20,000 pods) in its own process
 * with the Node options its Deployment ships, 1,000 hostile requests from 16 concurrent clients,
 * and valid reviews at 50/s beside them through one pool of kept-alive connections, as the
 * apiserver sends them. The same measurement as `npm run bench:webhook -- --flood` (bench/webhook-flood.ts).
 *
 * The e2e variant (webhook.test.ts) floods the real `stowage webhook` beside a control plane
 * creating pods through it: there no pod may be admitted unplaced and RSS stays under 256 MiB
 * (compiled, as the image runs it). Here: the valid reviews' p99, timed by their client.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { floodOneServer } from '../../bench/webhook-flood.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('a flood of 1,000 hostile requests from 16 clients on loopback: the webhook stays up, answers each as specified, and 99% of the valid reviews beside it within 100 ms, timed by their client', { timeout: 5 * 60_000 }, async () => {
  const run = await floodOneServer('stowage', 'stowage', ROOT, true);
  const flood = run.flood;
  assert.ok(flood !== undefined);
  const figures = {
    floodSeconds: Number(flood.seconds.toFixed(1)),
    load: Number(flood.load.toFixed(1)),
    validReviews: flood.n,
    notAnswered200: flood.notOk,
    shed: flood.shed,
    onNewConnections: flood.newConnections,
    p50Ms: Number(flood.p50.toFixed(1)),
    p99Ms: Number(flood.p99.toFixed(1)),
    insideTheServer: flood.loop.valid,
    serverEventLoop: flood.loop.loop,
    unexpectedAnswers: flood.unexpected,
    mainMsPerHostile: Number(flood.mainMsPerHostile.toFixed(2)),
    cpuMsPerAdmission: Number(run.cpuPerAdmissionMs.toFixed(3)),
    calmP99Ms: Number(run.calm.p99.toFixed(1)),
    // Through tsx's loader (~90 MiB more than compiled): the RSS goal is asserted in webhook.test.ts, compiled.
    rssMiB: { before: Math.round(flood.rss.before), peak: Math.round(flood.rss.peak), after5s: Math.round(flood.rss.after) },
  };
  process.stdout.write(`# WEBHOOK-LOOPBACK-FLOOD ${JSON.stringify(figures)}\n`);
  assert.ok(flood.alive, 'the webhook server survived the flood');
  assert.equal(flood.unexpected, 0, 'every hostile request got one of its expected answers, in one line');
  assert.ok(flood.n >= 50, `valid reviews were sent during the flood (${flood.n})`);
  assert.equal(flood.notOk, 0, 'every valid review was answered 200');
  assert.equal(flood.shed, 0, 'no valid review was admitted unchanged: each was placed');
  assert.ok(flood.p99 < 100, `valid reviews' p99 ${flood.p99.toFixed(1)} ms < 100 ms, timed by their client (p50 ${flood.p50.toFixed(1)} ms, ${flood.n} reviews, ${flood.newConnections} on new connections)`);
});
