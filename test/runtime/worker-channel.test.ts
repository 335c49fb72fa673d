import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import test from 'node:test';
import { launcherPid } from '../../src/runtime/process-launcher.js';
import { openWorker, PIECE_BYTES, type Spawner, type WorkerChannel } from '../../src/runtime/worker-channel.js';

type In = { type: 'echo'; n: number; data?: Float32Array; extra?: unknown } | { type: 'bye'; last: number };
type Out = { type: 'echo'; n: number; data?: Float32Array; extra?: unknown; pid: number } | { type: 'last'; n: number };

const FIXTURE = path.join(__dirname, 'echo-worker.fixture.ts');

function open(spawner: Spawner): { channel: WorkerChannel<In, Out>; received: Out[]; exit: Promise<number | null> } {
  const channel = openWorker<In, Out>(FIXTURE, 'process', { spawner, execArgv: ['--import', 'tsx'] });
  const received: Out[] = [];
  channel.onMessage((m) => received.push(m));
  const exit = new Promise<number | null>((resolve) => channel.onExit(resolve));
  return { channel, received, exit };
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

for (const spawner of ['launcher', 'fork'] as const) {
  test(`a child process (${spawner}): messages both ways in order, arrays larger than a piece and maps intact, and every message read before its exit`, async () => {
    const { channel, received, exit } = open(spawner);
    const big = Float32Array.from({ length: (PIECE_BYTES * 2.5) / 4 }, (_, i) => Math.sin(i));
    // A Map and a Set (a scan's skip tallies) keep their kind on the way, beside an array sent in pieces.
    const extra = { tallies: new Map([['ignored', { count: 3, examples: ['a/'] }]]), tags: new Set(['x', 'y']), data: big };
    for (let n = 0; n < 20; n++) await channel.send(n === 7 ? { type: 'echo', n, data: big } : n === 9 ? { type: 'echo', n, extra } : { type: 'echo', n });
    await channel.send({ type: 'bye', last: 50 });
    assert.equal(await exit, 0, 'it ended by itself');
    const echoes = received.filter((m) => m.type === 'echo');
    assert.deepEqual(echoes.map((m) => m.n), Array.from({ length: 20 }, (_, n) => n));
    assert.deepEqual(echoes.find((m) => m.n === 7)!.data, big);
    assert.deepEqual(echoes.find((m) => m.n === 9)!.extra, extra);
    assert.deepEqual(received.filter((m) => m.type === 'last').map((m) => m.n), Array.from({ length: 50 }, (_, n) => n), 'its last messages, all before its exit');
    const pid = echoes[0]!.type === 'echo' ? echoes[0]!.pid : undefined;
    assert.equal(channel.pid, pid);
  });

  test(`a child process (${spawner}) that is terminated reports its exit, and later sends do not throw`, async () => {
    const { channel, received, exit } = open(spawner);
    await channel.send({ type: 'echo', n: 1 });
    while (received.length === 0) await new Promise((r) => setTimeout(r, 10));
    channel.terminate();
    assert.notEqual(await exit, 0);
    await channel.send({ type: 'echo', n: 2 });
  });
}

test('with the launcher, a child is the launcher\'s, not this process\'s, and a script that cannot run ends with its exit', { skip: process.platform !== 'linux' && 'read from /proc' }, async () => {
  const { channel, received, exit } = open('launcher');
  await channel.send({ type: 'echo', n: 1 });
  while (received.length === 0) await new Promise((r) => setTimeout(r, 10));
  const launcher = launcherPid();
  assert.ok(launcher, 'the launcher runs');
  assert.equal(parentOf(launcher), process.pid);
  assert.equal(parentOf(channel.pid!), launcher, 'the child is the launcher\'s');
  await channel.send({ type: 'bye', last: 0 });
  assert.equal(await exit, 0);

  const missing = openWorker<In, Out>(path.join(__dirname, 'no-such-script.js'), 'process');
  const code = await new Promise<number | null>((resolve) => missing.onExit(resolve));
  assert.notEqual(code, 0);
});

test('a launcher that dies takes its children with it, and their channels report an exit; the next child gets a new launcher', { skip: process.platform === 'win32' && 'no launcher' }, async () => {
  const a = open('launcher');
  await a.channel.send({ type: 'echo', n: 1 });
  while (a.received.length === 0) await new Promise((r) => setTimeout(r, 10));
  const first = launcherPid()!;
  const child = a.channel.pid!;
  process.kill(first, 'SIGKILL');
  assert.equal(await a.exit, null);
  const deadline = Date.now() + 5000;
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  while (alive(child) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(!alive(child), 'its child is gone');

  const b = open('launcher');
  await b.channel.send({ type: 'echo', n: 2 });
  await b.channel.send({ type: 'bye', last: 1 });
  assert.equal(await b.exit, 0);
  assert.notEqual(launcherPid(), first);
  assert.deepEqual(b.received.map((m) => m.type), ['echo', 'last']);
});
