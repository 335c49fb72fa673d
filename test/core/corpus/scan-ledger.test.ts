import assert from 'node:assert/strict';
import test from 'node:test';
import { ScanLedger } from '../../../src/core/corpus/scan-ledger.js';

const limits = { maxFileBytes: 100, maxFiles: 3, maxTotalBytes: 250 };
const text = (n: number) => new TextEncoder().encode('a'.repeat(n - 1) + '\n');

test('the ledger takes files under the caps, names every skip, and keeps a few sorted examples per reason', () => {
  const ledger = new ScanLedger<{ relPath: string; bytes: number }>('root', limits);
  assert.equal(ledger.beforeRead(101), 'too-large');
  assert.equal(ledger.beforeRead(90), undefined);
  ledger.take({ relPath: 'a', bytes: 90 });
  // A batch: files and bytes chosen but not yet taken count against the caps.
  assert.equal(ledger.beforeRead(60, { files: 1, bytes: 90 }), undefined, '90 + 90 + 60 ≤ 250');
  assert.equal(ledger.beforeRead(80, { files: 1, bytes: 90 }), 'byte-cap', '90 + 90 + 80 > 250');
  assert.equal(ledger.beforeRead(1), 'byte-cap', 'once a cap is reached, every later file meets it');
  assert.equal(ledger.capped(), 'byte-cap');
  for (const p of ['z', 'y', 'x', 'w', 'v', 'u']) ledger.skip(p, 'binary', 10);
  const scan = ledger.finish();
  assert.deepEqual(scan.skipped.get('binary'), { count: 6, bytes: 60, examples: ['v', 'w', 'x', 'y', 'z'] });
  assert.equal(ledger.skipped, 6);
  assert.equal(scan.totalBytes, 90);
  assert.deepEqual(scan.files.map((f) => f.relPath), ['a']);
});

test('the file cap leaves a file out before anything of it is known; bytes as read are judged again', () => {
  const ledger = new ScanLedger<{ bytes: number }>('root', limits);
  for (let i = 0; i < 3; i++) ledger.take({ bytes: 10 });
  assert.equal(ledger.capped(), 'file-cap');
  const fresh = new ScanLedger<{ bytes: number }>('root', limits);
  assert.deepEqual(fresh.judge(text(101)), { skip: 'too-large' }, 'a file that grew past the limit');
  assert.deepEqual(fresh.judge(new Uint8Array([0, 1, 2, 0])), { skip: 'binary' });
  assert.deepEqual(fresh.judge(text(5)), { text: 'aaaa\n' });
  fresh.take({ bytes: 200 });
  assert.deepEqual(fresh.judge(text(60)), { skip: 'byte-cap' });
  assert.equal(fresh.capped(), 'byte-cap');
});
