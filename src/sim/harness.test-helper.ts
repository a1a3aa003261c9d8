/**
 * Small hand-checkable worlds for the model tests: one zone, one instance type with round
 * numbers, no load cycle, no jobs, no warm-up, unless a test asks otherwise.
 */
import { DEFAULT_PROFILE } from '../policy/fit/index.js';
import type { ArmConfig } from './arms.js';
import { resolveScenario } from './scenario.js';
import type { Scenario } from './scenario.js';
import { createWorld } from './simulation.js';
import type { World } from './simulation.js';

/** An arm with no Stowage component, on-demand only unless told. */
export function testArm(overrides: Partial<ArmConfig> = {}): ArmConfig {
  return { name: 'TEST', description: 'test arm', profile: DEFAULT_PROFILE, capacityTypes: ['on-demand'], placement: false, deschedule: [], naiveRestart: false, ...overrides };
}

/**
 * A scenario over the default with: zone `z-a`; instance type `box` (4 cpu, 16Gi, 58 pods,
 * $3.60/h on-demand = $0.001/s, $1.44/h spot); no services unless listed; no jobs; no DaemonSet
 * requests; provisioning exactly 60 s, billing from 10 s; no warm-up.
 */
export function testScenario(spec: Record<string, unknown> = {}): Scenario {
  const base = {
    duration: '2h',
    warmUp: '0s',
    sampleEvery: '1m',
    cloud: {
      zones: ['z-a'],
      instanceTypes: [{ name: 'box', cpu: 4, memory: '16Gi', pods: 58, onDemand: 3.6, spot: 1.44, interruption: '<5%' }],
      provisioning: { min: '60s', max: '60s' },
      billingStartsAfter: { min: '10s', max: '10s' },
      spot: { bandMonthlyRate: { '<5%': 0, '5-10%': 0, '10-15%': 0, '15-20%': 0, '>20%': 0 } },
    },
    daemonSet: { cpu: 0, memory: 0 },
    services: { generate: { count: 0 }, list: [] },
    jobs: { arrivalsPerHour: 0 },
  };
  return resolveScenario({ apiVersion: 'stowage.io/v1alpha1', kind: 'Scenario', metadata: { name: 'test' }, spec: _merge(base, spec) }, 'test');
}

/** A started world for `scenario` and `arm`, seed 1. */
export function testWorld(scenario: Scenario, arm: ArmConfig = testArm(), seed = 1): World {
  const world = createWorld({ scenario, arm, seed });
  world.start();
  return world;
}

function _merge(base: unknown, override: unknown): unknown {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(base) || !isObj(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = _merge(base[k], v);
  return out;
}
