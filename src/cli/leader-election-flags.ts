/**
 * The `--leader-elect*` flags, named and defaulted as kube-scheduler and kube-controller-manager
 * name them (15s lease, 10s renew deadline, 2s retry period).
 */
import type { Command } from 'commander';
import { leaderElectionConfigError, type LeaderElectionSettings } from '../controllers/runtime/runtime.js';
import { CliError } from './errors.js';
import { parseDuration } from './flags.js';

export interface LeaderElectionFlags {
  readonly leaderElect: boolean;
  readonly leaderElectLeaseDuration: string;
  readonly leaderElectRenewDeadline: string;
  readonly leaderElectRetryPeriod: string;
  readonly leaderElectResourceName: string;
  readonly leaderElectResourceNamespace: string;
}

/** Adds the flags; `name` is the default Lease name. */
export function addLeaderElectionFlags(command: Command, name: string): Command {
  return command
    .option('--leader-elect', 'take a Lease before acting, so that of several replicas only one acts', false)
    .option('--leader-elect-lease-duration <duration>', 'how long a standby waits, after the leader last renewed, before taking over', '15s')
    .option('--leader-elect-renew-deadline <duration>', 'how long the leader tries to renew before it stops acting; less than the lease duration', '10s')
    .option('--leader-elect-retry-period <duration>', 'time between attempts to take or renew the Lease', '2s')
    .option('--leader-elect-resource-name <name>', 'the Lease\'s name', name)
    .option('--leader-elect-resource-namespace <namespace>', 'the Lease\'s namespace', 'stowage-system');
}

/** The election the flags ask for, or undefined without `--leader-elect`; one-line errors. */
export function leaderElectionFromFlags(opts: LeaderElectionFlags): LeaderElectionSettings | undefined {
  if (!opts.leaderElect) return undefined;
  const settings: LeaderElectionSettings = {
    leaseDurationMs: parseDuration(opts.leaderElectLeaseDuration, '--leader-elect-lease-duration'),
    renewDeadlineMs: parseDuration(opts.leaderElectRenewDeadline, '--leader-elect-renew-deadline'),
    retryPeriodMs: parseDuration(opts.leaderElectRetryPeriod, '--leader-elect-retry-period'),
    name: opts.leaderElectResourceName,
    namespace: opts.leaderElectResourceNamespace,
  };
  const error = leaderElectionConfigError({ ...settings, identity: 'check' });
  if (error !== undefined) throw new CliError(error);
  return settings;
}
