import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReservationLedger } from './ledger.js';

const cpu = (m: number) => ({ cpu: m, pods: 1 });

test('reservations count per group and type until released', () => {
  const ledger = new ReservationLedger(10_000);
  ledger.reserve({ id: 'a', group: 'g', capacityType: 'on-demand', requests: cpu(100) }, 0);
  ledger.reserve({ id: 'b', group: 'g', capacityType: 'spot', requests: cpu(200) }, 0);
  ledger.reserve({ id: 'c', group: 'h', capacityType: 'spot', requests: cpu(300) }, 0);
  assert.deepEqual(ledger.counts('g', 1), { onDemand: 1, spot: 1 });
  assert.deepEqual(ledger.counts('h', 1), { onDemand: 0, spot: 1 });
  assert.deepEqual(ledger.counts('none', 1), { onDemand: 0, spot: 0 });
  assert.deepEqual(ledger.requested('spot', 1), { cpu: 500, pods: 2 });
  assert.equal(ledger.release('a'), true);
  assert.equal(ledger.release('a'), false, 'releasing twice is harmless');
  assert.deepEqual(ledger.counts('g', 1), { onDemand: 0, spot: 1 });
  assert.equal(ledger.size, 2);
});

test('the same id again replaces the reservation instead of doubling it', () => {
  const ledger = new ReservationLedger(10_000);
  ledger.reserve({ id: 'a', group: 'g', capacityType: 'on-demand', requests: cpu(1) }, 0);
  ledger.reserve({ id: 'a', group: 'g', capacityType: 'spot', requests: cpu(1) }, 5);
  assert.deepEqual(ledger.counts('g', 6), { onDemand: 0, spot: 1 });
});

test('reservations expire after the TTL, counted, and a replaced one expires from its new time', () => {
  const ledger = new ReservationLedger(1_000);
  ledger.reserve({ id: 'a', group: 'g', capacityType: 'on-demand', requests: cpu(1) }, 0);
  ledger.reserve({ id: 'b', group: 'g', capacityType: 'on-demand', requests: cpu(1) }, 500);
  ledger.reserve({ id: 'a', group: 'g', capacityType: 'on-demand', requests: cpu(1) }, 600);
  assert.deepEqual(ledger.counts('g', 999), { onDemand: 2, spot: 0 });
  assert.deepEqual(ledger.counts('g', 1_500), { onDemand: 1, spot: 0 }, 'b expired at 1500');
  assert.deepEqual(ledger.counts('g', 1_600), { onDemand: 0, spot: 0 }, 'a, renewed at 600, expired at 1600');
  assert.equal(ledger.expiredTotal, 2);
  assert.equal(ledger.size, 0);
});

test('a non-positive TTL is refused', () => {
  assert.throws(() => new ReservationLedger(0), /Invalid reservation TTL 0 ms/);
});
