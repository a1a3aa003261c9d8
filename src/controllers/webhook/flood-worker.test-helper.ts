/**
 * Worker-thread entry of {@link floodInWorker}: runs one flood with the options it was given as
 * `workerData` and posts back its result.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { floodWebhook, type FloodOptions } from './flood.test-helper.js';

parentPort?.postMessage(await floodWebhook(workerData as FloodOptions));
