import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseListenAddress } from './webhook.js';

test('--listen takes host:port as Go servers do', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:8443', '--listen'), { host: '127.0.0.1', port: 8443 });
  assert.deepEqual(parseListenAddress(':8443', '--listen'), { host: '0.0.0.0', port: 8443 });
  assert.deepEqual(parseListenAddress('[::1]:0', '--listen'), { host: '::1', port: 0 });
  assert.deepEqual(parseListenAddress('localhost:80', '--listen'), { host: 'localhost', port: 80 });
  for (const bad of ['8443', '127.0.0.1', '127.0.0.1:99999', 'a:b', '::1:80']) {
    assert.throws(() => parseListenAddress(bad, '--listen'), new RegExp(`^CliError: Invalid --listen "${bad.replace(/[.[\]]/g, '\\$&')}": expected host:port`));
  }
});
