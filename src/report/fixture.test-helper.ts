/**
 * A small hand-made SimulationResult for the report tests: two simulated days, three seeds, the
 * six arms of issue 3, with round numbers so that tests can assert the exact text printed.
 */
import type { ArmChurn, ArmResult, ArmSeries, Estimate, ServiceUptime, SimulationResult } from '../sim/result.js';

const _DAY = 86_400;
const _STEP = 900;

/** An estimate with the given mean and 95% CI; the samples are the three points, for show. */
export function estimate(mean: number, low = mean, high = mean): Estimate {
  return { mean, low, high, samples: [low, mean, high] };
}

interface _ArmSpec {
  readonly name: string;
  readonly description: string;
  readonly usdPerDay: readonly [number, number, number];
  readonly saving?: readonly [number, number, number];
  readonly nonInferior?: boolean;
  readonly summary?: string;
  readonly odNodes: number;
  readonly spotNodes: number;
  readonly utilisation: number;
  readonly a1: number;
  readonly a2: number;
  readonly worstA1: number;
  readonly worstA2: number;
  readonly outages: number;
  readonly outageSeconds: number;
  readonly evictions: number;
  /** Node launches per run more than B0's. */
  readonly launches?: number;
  readonly p99: number;
}

const _ARMS: readonly _ArmSpec[] = [
  { name: 'B0', description: 'default scheduler + autoscaler, all on-demand', usdPerDay: [1200, 1180, 1220], odNodes: 30, spotNodes: 0, utilisation: 0.42, a1: 0.9999, a2: 0.999, worstA1: 0.999, worstA2: 0.995, outages: 0.3, outageSeconds: 40, evictions: 0, p99: 85 },
  { name: 'T1', description: 'B0 + MostAllocated scoring', usdPerDay: [1100, 1085, 1115], saving: [0.083, 0.07, 0.095], nonInferior: true, odNodes: 27.5, spotNodes: 0, utilisation: 0.47, a1: 0.9999, a2: 0.9989, worstA1: 0.999, worstA2: 0.9948, outages: 0.3, outageSeconds: 42, evictions: 0, p99: 88 },
  { name: 'T2', description: 'T1 + eager descheduling and consolidation', usdPerDay: [950, 930, 970], saving: [0.21, 0.18, 0.24], nonInferior: true, odNodes: 23.8, spotNodes: 0, utilisation: 0.56, a1: 0.9998, a2: 0.9986, worstA1: 0.9989, worstA2: 0.994, outages: 0.7, outageSeconds: 95, evictions: 412, launches: 12, p99: 120 },
  { name: 'T3', description: 'T2 + spot mix with an on-demand floor', usdPerDay: [700, 680, 720], saving: [0.41, 0.38, 0.44], nonInferior: true, summary: 'T3 saves 41% (38–44%) of B0 and its uptime is non-inferior at a 0.1 pp margin: safe to enable.', odNodes: 9, spotNodes: 16, utilisation: 0.55, a1: 0.9998, a2: 0.9984, worstA1: 0.9987, worstA2: 0.9935, outages: 0.7, outageSeconds: 110, evictions: 655, p99: 140 },
  { name: 'T4', description: 'T3 + spot rescheduling', usdPerDay: [660, 645, 675], saving: [0.45, 0.42, 0.48], nonInferior: true, odNodes: 8, spotNodes: 16.5, utilisation: 0.57, a1: 0.9998, a2: 0.9983, worstA1: 0.9986, worstA2: 0.993, outages: 1, outageSeconds: 130, evictions: 901, p99: 150 },
  { name: 'NAIVE', description: 'B0 + restart every pod every 6 h', usdPerDay: [1230, 1212, 1248], saving: [-0.025, -0.04, -0.01], nonInferior: false, summary: 'NAIVE costs 2.5% more (1.0–4.0%) than B0 and its uptime may be worse: do not use.', odNodes: 30.8, spotNodes: 0, utilisation: 0.41, a1: 0.9982, a2: 0.9921, worstA1: 0.9951, worstA2: 0.9812, outages: 6.3, outageSeconds: 1260, evictions: 4320, p99: 410 },
];

/** What {@link makeFixture} can vary. */
export interface FixtureOptions {
  /** Renames the arm at `index` (0 is the baseline), e.g. to check escaping. */
  readonly rename?: { readonly index: number; readonly name: string };
  /** Only the first `arms` arms. */
  readonly arms?: number;
}

/** Builds the fixture. Deterministic: series follow a daily cycle computed from the time alone. */
export function makeFixture(options: FixtureOptions = {}): SimulationResult {
  const durationSeconds = 2 * _DAY;
  const specs = _ARMS.slice(0, options.arms ?? _ARMS.length);
  const arms = specs.map((spec, index): ArmResult => {
    const name = options.rename?.index === index ? options.rename.name : spec.name;
    const verdict =
      spec.saving === undefined
        ? undefined
        : {
            savingVsBaseline: estimate(...spec.saving),
            uptimeNonInferior: spec.nonInferior ?? true,
            nonInferiorityMargin: 0.001,
            summary: spec.summary ?? '',
            churn: _churn(spec),
          };
    return {
      name,
      description: spec.description,
      metrics: {
        totalUsd: estimate(spec.usdPerDay[0] * 2, spec.usdPerDay[1] * 2, spec.usdPerDay[2] * 2),
        usdPerDay: estimate(...spec.usdPerDay),
        nodeHoursOnDemand: estimate(spec.odNodes * 48, spec.odNodes * 46, spec.odNodes * 50),
        nodeHoursSpot: estimate(spec.spotNodes * 48, spec.spotNodes * 46, spec.spotNodes * 50),
        meanRequestedUtilisation: estimate(spec.utilisation, spec.utilisation - 0.01, spec.utilisation + 0.01),
        uptimeA1: estimate(spec.a1, spec.a1 - 0.0001, Math.min(1, spec.a1 + 0.0001)),
        uptimeA2: estimate(spec.a2, spec.a2 - 0.0004, Math.min(1, spec.a2 + 0.0004)),
        worstServiceA1: estimate(spec.worstA1, spec.worstA1 - 0.0005, Math.min(1, spec.worstA1 + 0.0005)),
        worstServiceA2: estimate(spec.worstA2, spec.worstA2 - 0.001, Math.min(1, spec.worstA2 + 0.001)),
        outages: estimate(spec.outages, 0, spec.outages * 2),
        outageSeconds: estimate(spec.outageSeconds, 0, spec.outageSeconds * 2),
        evictions: estimate(spec.evictions, spec.evictions * 0.9, spec.evictions * 1.1),
        spotInterruptions: estimate(spec.spotNodes > 0 ? 3 : 0),
        // The bound: $900/day on on-demand nodes, $380 with spot; the arm's cost above it ±2 points.
        boundUsdPerDay: estimate(spec.spotNodes > 0 ? 380 : 900),
        aboveBound: estimate(spec.usdPerDay[0] / (spec.spotNodes > 0 ? 380 : 900) - 1, spec.usdPerDay[0] / (spec.spotNodes > 0 ? 380 : 900) - 1.02, spec.usdPerDay[0] / (spec.spotNodes > 0 ? 380 : 900) - 0.98),
        pendingP50Seconds: estimate(spec.p99 / 4),
        pendingP99Seconds: estimate(spec.p99, spec.p99 * 0.9, spec.p99 * 1.1),
        perService: _services(spec),
      },
      ...(verdict === undefined ? {} : { verdict }),
      series: _series(spec, durationSeconds, index),
    };
  });
  return {
    apiVersion: 'stowage.io/v1alpha1',
    kind: 'SimulationResult',
    scenario: { name: 'default', source: 'embedded', durationSeconds },
    seeds: [1, 2, 3],
    baseline: 'B0',
    arms,
    wallSeconds: 12.5,
    stowageVersion: '0.1.0',
  };
}

function _services(spec: _ArmSpec): readonly ServiceUptime[] {
  return ['web', 'api', 'cart', 'search'].map((service, k) => {
    const a1 = k === 3 ? spec.worstA1 : Math.min(1, spec.a1 + 0.00002 * k);
    const a2 = k === 3 ? spec.worstA2 : Math.min(1, spec.a2 + 0.0002 * k);
    return { service, a1: estimate(a1), a2: estimate(a2), outages: estimate(k === 3 ? spec.outages : 0), outageSeconds: estimate(k === 3 ? spec.outageSeconds : 0) };
  });
}

function _series(spec: _ArmSpec, durationSeconds: number, index: number): ArmSeries {
  const n = durationSeconds / _STEP + 1;
  const usdPerHour: number[] = [];
  const cumulativeUsd: number[] = [];
  const nodesOnDemand: number[] = [];
  const nodesSpot: number[] = [];
  const readyShare: number[] = [];
  const pendingPods: number[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    const t = i * _STEP;
    // Daily load: low at night, peak mid-afternoon; amplitude ±30%.
    const load = 1 + 0.3 * Math.sin((2 * Math.PI * (t - 9 * 3600)) / _DAY);
    const od = Math.round(spec.odNodes * (spec.spotNodes > 0 ? 1 : load));
    const spot = Math.round(spec.spotNodes * load);
    const rate = (spec.usdPerDay[0] / 24) * (od + spot * 0.35) / (spec.odNodes + spec.spotNodes * 0.35);
    if (i > 0) total += (rate * _STEP) / 3600;
    usdPerHour.push(Number(rate.toFixed(2)));
    cumulativeUsd.push(Number(total.toFixed(2)));
    nodesOnDemand.push(od);
    nodesSpot.push(spot);
    readyShare.push(i % (40 + index) === 7 ? spec.worstA2 : 1);
    pendingPods.push(Math.max(0, Math.round(3 * Math.sin(t / 5000))));
  }
  return { stepSeconds: _STEP, usdPerHour, cumulativeUsd, nodesOnDemand, nodesSpot, readyShare, pendingPods };
}

/** Churn against B0 (no evictions, $1,200 a day over two days): the arm's evictions and launches, per dollar saved when it saves. */
function _churn(spec: _ArmSpec): ArmChurn {
  const saved = (1200 - spec.usdPerDay[0]) * 2;
  const launches = spec.launches ?? 0;
  return {
    evictions: estimate(spec.evictions),
    nodeLaunches: estimate(launches),
    savedUsd: estimate(saved),
    ...(saved > 0 ? { evictionsPerUsdSaved: spec.evictions / saved, nodeLaunchesPerUsdSaved: launches / saved } : {}),
  };
}
