/**
 * Worker-thread entry of `ValidReviewStream` (flood.test-helper.ts): streams valid reviews on command, with the
 * options it was given as `workerData`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serveValidReviewStream, type ValidStreamOptions } from './flood.test-helper.js';

if (parentPort !== null) serveValidReviewStream(parentPort, workerData as ValidStreamOptions);
