import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import test from 'node:test';
import { PIECE_BYTES } from '../../../src/runtime/process/message-pieces.js';
import { ServerProcess } from '../../../src/runtime/serving/server-process.js';
import { openWorker, type Spawner, type WorkerChannel } from '../../../src/runtime/training/worker-channel.js';

const serverPid = () => ServerProcess.runningPid();

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

for (const spawner of ['server', 'fork'] as const) {
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

test('started by the model server, a child is the server\'s, not this process\'s, and a script that cannot run ends with its exit', { skip: process.platform !== 'linux' && 'read from /proc' }, async () => {
  const { channel, received, exit } = open('server');
  await channel.send({ type: 'echo', n: 1 });
  while (received.length === 0) await new Promise((r) => setTimeout(r, 10));
  const server = serverPid();
  assert.ok(server, 'the model server runs');
  assert.equal(parentOf(server), process.pid);
  assert.equal(parentOf(channel.pid!), server, 'the child is the server\'s');
  assert.deepEqual((await ServerProcess.for().census()).children, [channel.pid], 'the server counts it');
  await channel.send({ type: 'bye', last: 0 });
  assert.equal(await exit, 0);
  assert.deepEqual((await ServerProcess.for().census()).children, [], 'and forgets it once it has ended');

  const missing = openWorker<In, Out>(path.join(__dirname, 'no-such-script.js'), 'process');
  const code = await new Promise<number | null>((resolve) => missing.onExit(resolve));
  assert.notEqual(code, 0);
});

test('a child outlives a model server that dies: it still talks, and its exit is told by its channel\'s end; the next child gets a new server', { skip: process.platform === 'win32' && 'no server spawner' }, async () => {
  const a = open('server');
  await a.channel.send({ type: 'echo', n: 1 });
  while (a.received.length === 0) await new Promise((r) => setTimeout(r, 10));
  const first = serverPid()!;
  process.kill(first, 'SIGKILL');
  while (serverPid() === first) await new Promise((r) => setTimeout(r, 10));
  await a.channel.send({ type: 'echo', n: 2 });
  await a.channel.send({ type: 'bye', last: 3 });
  assert.equal(await a.exit, null, 'ended, its code unknown');
  assert.deepEqual(a.received.map((m) => (m.type === 'echo' ? `echo ${m.n}` : `last ${m.n}`)), ['echo 1', 'echo 2', 'last 0', 'last 1', 'last 2']);

  const b = open('server');
  await b.channel.send({ type: 'echo', n: 2 });
  await b.channel.send({ type: 'bye', last: 1 });
  assert.equal(await b.exit, 0);
  assert.notEqual(serverPid(), first);
  assert.deepEqual(b.received.map((m) => m.type), ['echo', 'last']);
});
