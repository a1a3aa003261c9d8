/**
 * A worker thread of the runner: runs the jobs it is sent, one at a time, and posts progress
 * and results back. Each run is a pure function of its job, so results do not depend on which
 * worker ran it or in which order.
 */
import { parentPort } from 'node:worker_threads';
import { findArm } from './arms.js';
import type { RunJob, WorkerMessage } from './runner.js';
import { runSimulation } from './simulation.js';

const port = parentPort;
if (port === null) throw new Error('Cannot start the simulation worker: it must run in a worker thread');

port.on('message', (job: RunJob) => {
  const send = (message: WorkerMessage): void => port.postMessage(message);
  try {
    const arm = findArm(job.arm);
    if (arm === undefined) throw new Error(`Cannot run unknown arm "${job.arm}"`);
    const output = runSimulation({ scenario: job.scenario, arm, seed: job.seed }, { onProgress: (fraction) => send({ type: 'progress', fraction }) });
    send({ type: 'done', output });
  } catch (error) {
    send({ type: 'error', message: error instanceof Error ? `${error.message}${process.env['STOWAGE_DEBUG'] ? `\n${error.stack ?? ''}` : ''}` : String(error) });
  }
});
