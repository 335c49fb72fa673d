// The load test: Train on Workspace on a huge workspace (scripts/bench/large-workspace.ts makes one of
// 100,000 files, 1 GB), run only when the runner opens such a folder (run-in-host.ts --workspace, which
// sets NEXTWORD_LOAD_TEST=1). It samples the run every 250 ms and records, for the whole run: its phases'
// times, the worst event-loop gap of the extension host, its peak RSS, and completions typed while the
// network trains (answered by the n-gram model of the workspace), and holds the run to the 50 ms target.
// Figures: out/in-host/metrics.json. It is not part of CI (it needs the 1 GB workspace and minutes).
import assert from 'node:assert/strict';
import { closeSync, openSync, readlinkSync, readSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import inspector from 'node:inspector';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { after, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { acceptInlineCompletion, appendParagraph, openAtEnd, recordMetrics, sleep, stats, waitFor } from '../helpers.js';

const TRAIN = 'nextword.trainWorkspace';
const PROMPT = 'It was the ';
/** Typed after the accepted completion, a key every KEY_INTERVAL_MS. */
const TYPED_LINE = ' Alice looked at the door and wondered what the Queen would say to the little gardener.';
const KEY_INTERVAL_MS = 60;
/**
 * NEXTWORD_LOAD_CONTROL=<seconds>: the control run of the second test. The same watch, the same file opened
 * and typed into (from CONTROL_TYPING_AT_S on, about when a real run's n-gram model starts serving), for that
 * long, with nothing trained: what the extension host's event loop does in this editor on this machine when
 * Nextword only completes (its model server answering, the default model). Figures: large-workspace-control.
 */
const CONTROL_S = Number(process.env.NEXTWORD_LOAD_CONTROL ?? 0);
const CONTROL_TYPING_AT_S = 20;
/** Written at the workspace's root for the typing, and deleted after. */
const TYPING_FILE = 'nextword-load-test.txt';

interface Observed {
  /** Garbage collections of the extension host's main thread over 20 ms, seconds into the run. */
  longGcs: { atS: number; ms: number; kind: string }[];
  /**
   * Every turn of the event loop that came over 50 ms late, to the millisecond: when it ended, how late, and
   * how much of that the thread spent computing (its CPU time, where Node.js can tell: the rest it was not
   * running at all, its two cores taken by the training worker, the browser and the server), and on Linux how
   * long it was ready to run but waited for a core (the scheduler's run-queue delay, /proc schedstat).
   */
  lateTurns: { atS: number; ms: number; cpuMs?: number; gcMs?: number; runQueueMs?: number; minorFaults?: number }[];
  /** When the watch began, on the monotonic clock of CPU profiles (µs). */
  monotonicStartUs: number;
  /**
   * Linux: what the thread was doing while a turn was over 30 ms late, seen from a watcher thread every
   * 5 ms: its scheduler state (R running or waiting for a core, S or D blocked in the kernel), the kernel
   * function it waits in (wchan) and, where readable, its kernel stack's first frames. Counted by kind.
   */
  blockedIn: Record<string, number>;
  /**
   * Linux, with NEXTWORD_LOAD_OTHERS=1: while the thread waited for a core in such a turn, every other task
   * of the machine running or waiting for one (process/thread, nice), counted over the turns (one look
   * each). Off by default: the scan creates /proc entries for every thread of every process, which the
   * kernel flushes when each process ends, on the thread that reaps it.
   */
  othersRunning: Record<string, number>;
}

/**
 * What the load test watches besides the extension's own figures (Observed); with
 * NEXTWORD_LOAD_PROFILE=<file>, also a CPU profile of the thread, to which `scripts/bench/long-tasks.ts
 * <file> --turns out/in-host/metrics.json` lays each late turn to say what ran in it.
 */
async function startProfile(): Promise<{ stop: () => Promise<Observed> }> {
  const t0 = performance.now();
  // The monotonic clock in µs, as a CPU profile's timestamps: late turns can be found in the profile.
  const monotonicStartUs = Number(process.hrtime.bigint() / 1000n);
  const longGcs: { atS: number; ms: number; kind: string }[] = [];
  const lateTurns: (Observed['lateTurns'][number] & { from?: number })[] = [];
  const threadCpuMs = (): number | undefined => {
    const usage = (process as { threadCpuUsage?: () => { user: number; system: number } }).threadCpuUsage?.();
    return usage && (usage.user + usage.system) / 1000;
  };
  let lastCpu: number | undefined;
  // The ticker reads two files of this thread's /proc 200 times a second: into one buffer, parsed in place.
  // (With readFileSync and split, the reads allocated 55 MB over a run, half of what the whole extension
  // host allocated, and the collections they caused paused the thread being measured.)
  const procBuffer = Buffer.alloc(1024);
  const openProc = (file: string): number | undefined => {
    try {
      return openSync(file, 'r');
    } catch {
      return undefined;
    }
  };
  const schedstatFd = openProc('/proc/thread-self/schedstat');
  const statFd = openProc('/proc/thread-self/stat');
  /** The n-th space-separated decimal number of an open /proc file, after its last `after` byte (or from its start). */
  const procNumber = (fd: number | undefined, n: number, after?: number): number | undefined => {
    if (fd === undefined) return undefined;
    let len: number;
    try {
      len = readSync(fd, procBuffer, 0, procBuffer.length, 0);
    } catch {
      return undefined;
    }
    let i = 0;
    if (after !== undefined) {
      i = procBuffer.lastIndexOf(after, len - 1);
      if (i < 0) return undefined;
      i += 2;
    }
    let field = 0;
    let value = 0;
    for (; i < len; i++) {
      const c = procBuffer[i]!;
      if (c === 0x20 || c === 0x0a) {
        if (field === n) return value;
        field++;
        value = 0;
      } else if (field === n) value = value * 10 + (c - 0x30);
    }
    return field === n ? value : undefined;
  };
  /** The thread's time on a run queue, waiting for a core (ms), where Linux tells it. */
  const runQueueMs = (): number | undefined => {
    const ns = procNumber(schedstatFd, 1);
    return ns === undefined ? undefined : ns / 1e6;
  };
  let lastQueue: number | undefined;
  /** The thread's minor page faults so far (memory touched for the first time costs the thread that touches it). */
  const minorFaults = (): number | undefined => procNumber(statFd, 7, 0x29 /* ')' */);
  let lastFaults: number | undefined;
  // The watcher: a worker thread that looks at this thread from outside while it is late (Linux only).
  const heartbeat = new Int32Array(new SharedArrayBuffer(4));
  const base = Date.now();
  let watcher: Worker | undefined;
  const blockedIn: Record<string, number> = {};
  const othersRunning: Record<string, number> = {};
  if (process.platform === 'linux') {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    watcher = new Worker(
      String.raw`const { workerData, parentPort } = require('node:worker_threads');
       const fs = require('node:fs');
       const hb = new Int32Array(workerData.sab);
       const dir = '/proc/' + process.pid + '/task/' + workerData.tid;
       const seen = {};
       const read = (f) => { try { return fs.readFileSync(dir + '/' + f, 'utf8'); } catch { return ''; } };
       // The watcher must not add to what it watches: it runs below everything (its scans of /proc cost
       // milliseconds), and looks at the machine's tasks once per late turn.
       try { require('node:os').setPriority(Number(fs.readlinkSync('/proc/thread-self').split('/').pop()), 19); } catch {}
       let scannedFor = -1;
       setInterval(() => {
         const beat = Atomics.load(hb, 0);
         if (Date.now() - workerData.base - beat < 30) return;
         const stat = read('stat');
         const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
         const stack = read('stack').split('\n').filter(Boolean).slice(0, 3).map((l) => l.replace(/^\[<[0-9a-f]+>\] /, '').replace(/\+0x[0-9a-f/x]+$/, '')).join(' < ');
         const key = state + ' ' + (read('wchan') || '-') + (stack ? ' | ' + stack : '');
         seen[key] = (seen[key] || 0) + 1;
         // And who had the cores: every task of the machine that is running or waiting for a core.
         if (!workerData.scanOthers || state !== 'R' || scannedFor === beat) return;
         scannedFor = beat;
         for (const pid of fs.readdirSync('/proc').filter((d) => /^[0-9]+$/.test(d))) {
           let tasks = [];
           try { tasks = fs.readdirSync('/proc/' + pid + '/task'); } catch { continue; }
           for (const t of tasks) {
             let s = '';
             try { s = fs.readFileSync('/proc/' + pid + '/task/' + t + '/stat', 'utf8'); } catch { continue; }
             const close = s.lastIndexOf(')');
             const f = s.slice(close + 2).split(' ');
             if (f[0] !== 'R' || t === String(workerData.tid)) continue;
             const k = tag(pid) + '/' + s.slice(s.indexOf('(') + 1, close) + ' ni ' + f[16];
             running[k] = (running[k] || 0) + 1;
           }
         }
       }, 5);
       const tags = {};
       function tag(pid) {
         if (tags[pid]) return tags[pid];
         let cmd = '';
         try { cmd = fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8'); } catch {}
         return (tags[pid] = pid === String(process.pid) ? 'host' : /training-worker/.test(cmd) ? 'training' : /model-server/.test(cmd) ? 'model-server'
           : /code-server|out\/node\/entry|server-main/.test(cmd) ? 'code-server' : /chrom/i.test(cmd) ? 'chromium' : (cmd.split('\0')[0] || '?').split('/').pop().slice(0, 20) + ':' + pid);
       }
       const running = {};
       parentPort.on('message', () => parentPort.postMessage({ seen, running }));`,
      { eval: true, workerData: { sab: heartbeat.buffer, tid, base, scanOthers: process.env.NEXTWORD_LOAD_OTHERS === '1' } },
    );
    watcher.unref();
  }
  const TICK_MS = 5;
  let lastTick = 0;
  let ticker: ReturnType<typeof setInterval> | undefined;
  // perf_hooks' NODE_PERFORMANCE_GC_* flags.
  const kinds: Record<number, string> = { 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weak callbacks' };
  /** Every collection, ms since t0: what part of a late turn was a pause for garbage collection. */
  const gcs: { from: number; to: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
      gcs.push({ from: e.startTime - t0, to: e.startTime - t0 + e.duration });
      if (e.duration > 20) longGcs.push({ atS: Math.round((e.startTime - t0) / 10) / 100, ms: Math.round(e.duration), kind: kinds[kind] ?? String(kind) });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const file = process.env.NEXTWORD_LOAD_PROFILE;
  // NEXTWORD_LOAD_HEAP_PROFILE=<file>: every allocation of the thread sampled (collected ones included), for
  // `scripts/bench/allocations.ts <file>` to say whose code allocated what the collector then had to collect.
  const heapFile = process.env.NEXTWORD_LOAD_HEAP_PROFILE;
  const session = file || heapFile ? new inspector.Session() : undefined;
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session!.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))));
  session?.connect();
  if (file) {
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 500 });
    await post('Profiler.start');
  }
  if (heapFile) {
    await post('HeapProfiler.startSampling', { samplingInterval: 64 * 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }
  // Started after the profiler, whose start holds the thread ~100 ms.
  lastTick = performance.now();
  lastCpu = threadCpuMs();
  lastQueue = runQueueMs();
  lastFaults = minorFaults();
  ticker = setInterval(() => {
    const now = performance.now();
    const cpu = threadCpuMs();
    const queue = runQueueMs();
    const faults = minorFaults();
    if (now - lastTick - TICK_MS > 50) {
      lateTurns.push({
        atS: Math.round(now - t0) / 1000,
        ms: Math.round(now - lastTick - TICK_MS),
        ...(cpu !== undefined && lastCpu !== undefined ? { cpuMs: Math.round(cpu - lastCpu) } : {}),
        ...(queue !== undefined && lastQueue !== undefined ? { runQueueMs: Math.round(queue - lastQueue) } : {}),
        ...(faults !== undefined && lastFaults !== undefined ? { minorFaults: faults - lastFaults } : {}),
        from: lastTick - t0,
      });
    }
    lastTick = now;
    lastCpu = cpu;
    lastQueue = queue;
    lastFaults = faults;
    Atomics.store(heartbeat, 0, Date.now() - base);
  }, TICK_MS);
  return {
    stop: async () => {
      observer.disconnect();
      clearInterval(ticker);
      for (const fd of [schedstatFd, statFd]) if (fd !== undefined) closeSync(fd);
      if (watcher) {
        const w = watcher;
        const report = await new Promise<{ seen: Record<string, number>; running: Record<string, number> }>((resolve) => {
          w.once('message', resolve);
          w.postMessage('report');
        });
        Object.assign(blockedIn, report.seen);
        Object.assign(othersRunning, report.running);
        await w.terminate();
      }
      // The collections' time within each late turn (a collection waits for helper threads: it stalls the
      // thread even when the thread's own CPU time is small).
      for (const t of lateTurns) {
        const to = t.atS * 1000;
        const gcMs = gcs.reduce((sum, g) => sum + Math.max(0, Math.min(to, g.to) - Math.max(t.from!, g.from)), 0);
        if (gcMs > 0) t.gcMs = Math.round(gcMs);
        delete t.from;
      }
      if (file) {
        const { profile } = (await post('Profiler.stop')) as { profile: unknown };
        writeFileSync(file, JSON.stringify(profile));
      }
      if (heapFile) {
        const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: unknown };
        writeFileSync(heapFile, JSON.stringify(profile));
      }
      session?.disconnect();
      return { longGcs, lateTurns, monotonicStartUs, blockedIn, othersRunning };
    },
  };
}

if (process.env.NEXTWORD_LOAD_TEST === '1') {
  describe('a large workspace', function () {
    this.timeout(1_200_000);
    after(() => vscode.workspace.getConfiguration('nextword').update('training.timeBudgetMinutes', undefined, vscode.ConfigurationTarget.Global));

    it('cancels in each phase (reading, vocabulary, training with the n-gram model serving) back to the previous model', async () => {
      const before = await waitFor('a model', async () => {
        const m = (await stats()).model;
        return m.state === 'ready' ? m : undefined;
      }, 60_000);
      const outcomes: Record<string, number> = {};
      for (const phase of ['reading', 'vocabulary', 'training']) {
        const t0 = Date.now();
        const run = Promise.resolve(vscode.commands.executeCommand(TRAIN));
        await waitFor(`the ${phase} phase`, async () => {
          const s = (await stats()) as unknown as { training: { phase?: string } | null; model: { origin?: string } };
          // Training: once the n-gram model serves, so that cancelling must also take it out of service.
          return s.training?.phase === phase && (phase !== 'training' || s.model.origin === 'interim') ? true : undefined;
        }, 600_000, 50);
        await vscode.commands.executeCommand('nextword.cancelTraining');
        await run;
        outcomes[phase] = (Date.now() - t0) / 1000;
        const now = await waitFor('the previous model', async () => {
          const m = (await stats()).model;
          return m.state === 'ready' && m.origin !== 'interim' ? m : undefined;
        });
        assert.equal((await stats()).training, null, `${phase}: nothing trains after cancel`);
        assert.deepEqual({ origin: now.origin, dir: now.dir }, { origin: before.origin, dir: before.dir }, `${phase}: the previous model is back`);
      }
      recordMetrics('large-workspace-cancel', { secondsToCancelledRun: outcomes });
    });

    it('trains within the caps without stalling the extension host, completing while the network trains', async () => {
      await vscode.workspace.getConfiguration('nextword').update('training.timeBudgetMinutes', 1, vscode.ConfigurationTarget.Global);
      await waitFor('a model', async () => ((await stats()).model.state === 'ready' ? true : undefined), 60_000);
      await stats({ reset: true });
      const profile = await startProfile();
      const t0 = Date.now();
      const phases: Record<string, number> = {};
      /** Gaps over 50 ms, by when they were seen (each sample resets the extension's loop histogram). */
      const stalls: { atS: number; phase: string | undefined; maxMs: number }[] = [];
      let worstMs = 0;
      const completionWindows: { requests: number; shown: number; latency: { count: number; p50: number; max: number }; predict: { count: number; max: number }; atS: number }[] = [];
      let peakRss = 0;
      let peakHeap = 0;
      let done = false;
      const run = (CONTROL_S > 0 ? sleep(CONTROL_S * 1000) : Promise.resolve(vscode.commands.executeCommand(TRAIN))).finally(() => (done = true));
      const sampler = (async () => {
        while (!done) {
          const s = (await stats({ reset: true })) as unknown as {
            training: { phase?: string } | null;
            memory: { rss: number; heapUsed: number };
            eventLoopDelayMs: { max: number };
            model: { origin?: string };
            completions: { requests: number; shown: number; latency: { count: number; p50: number; max: number }; predict: { count: number; max: number } };
          };
          // Completions answered by the n-gram model while the network trains (each window since the last reset).
          if ((s.model.origin === 'interim' || CONTROL_S > 0) && s.completions.requests > 0) completionWindows.push({ ...s.completions, atS: (Date.now() - t0) / 1000 });
          peakRss = Math.max(peakRss, s.memory.rss);
          peakHeap = Math.max(peakHeap, s.memory.heapUsed);
          const phase = s.training?.phase;
          if (phase && phases[phase] === undefined) phases[phase] = (Date.now() - t0) / 1000;
          worstMs = Math.max(worstMs, s.eventLoopDelayMs.max);
          if (s.eventLoopDelayMs.max > 50) stalls.push({ atS: (Date.now() - t0) / 1000, phase: `${phase ?? 'done'}/${s.model.origin}`, maxMs: Math.round(s.eventLoopDelayMs.max) });
          await sleep(250);
        }
      })();

      // While the network trains, the n-gram model of the workspace completes.
      if (CONTROL_S > 0) await sleep(CONTROL_TYPING_AT_S * 1000);
      else await waitFor('the n-gram model to serve', async () => ((await stats()).model.origin === 'interim' ? true : undefined), 600_000, 250);
      const servedAtS = (Date.now() - t0) / 1000;
      // A plain-text file: opening a Markdown one makes VS Code activate its Markdown extension and start
      // its language server, which held this thread 150-200 ms (its own cost, not Nextword's).
      const note = vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0]!.uri, TYPING_FILE);
      await vscode.workspace.fs.writeFile(note, await vscode.workspace.fs.readFile(vscode.Uri.joinPath(note, '..', 'part-0000', 'note-0.md')));
      const editor = await openAtEnd(TYPING_FILE);
      await appendParagraph(editor, PROMPT);
      const inserted = await acceptInlineCompletion(editor, PROMPT, 30_000);
      assert.ok(inserted.length > 0, 'a completion while the network trains');
      // Then a line typed key by key, as a user would, while the network trains.
      for (const ch of TYPED_LINE) {
        await vscode.commands.executeCommand('type', { text: ch });
        await sleep(KEY_INTERVAL_MS);
      }
      await vscode.commands.executeCommand('workbench.action.files.revert');
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      await vscode.workspace.fs.delete(note);

      await run;
      await sampler;
      const { longGcs, lateTurns, monotonicStartUs, blockedIn, othersRunning } = await profile.stop();
      const end = await stats();
      // A late turn stalls the extension host by the time its thread computed or collected garbage in it;
      // the rest of the delay the thread was not running at all (its two cores taken by the training worker,
      // the browser and the server: the machine's doing, not the thread's work).
      const busyMs = (t: Observed['lateTurns'][number]) => (t.cpuMs === undefined ? t.ms : Math.min(t.ms, Math.max(t.cpuMs, t.gcMs ?? 0)));
      const figures = {
        seconds: (Date.now() - t0) / 1000,
        phasesStartedAtS: phases,
        interimServedAtS: servedAtS,
        // The worse of the extension's own histogram and this test's 5 ms ticks (they see the same stalls a little differently).
        worstEventLoopGapMs: Math.round(Math.max(worstMs, end.eventLoopDelayMs.max, ...lateTurns.map((t) => t.ms))),
        worstBusyTurnMs: Math.max(0, ...lateTurns.map(busyMs)),
        stalls,
        peakRssMB: Math.round(peakRss / 1048576),
        peakHeapUsedMB: Math.round(peakHeap / 1048576),
        longGcs,
        lateTurns,
        blockedIn,
        othersRunning: Object.fromEntries(Object.entries(othersRunning).sort((a, b) => b[1] - a[1]).slice(0, 30)),
        monotonicStartUs,
        completionAcceptedWhileTraining: inserted,
        completionsWhileTraining: {
          requests: completionWindows.reduce((n, w) => n + w.requests, 0),
          shown: completionWindows.reduce((n, w) => n + w.shown, 0),
          /** The slowest request and prediction of any window; the median of the windows' medians. */
          worstLatencyMs: Math.max(0, ...completionWindows.filter((w) => w.latency.count > 0).map((w) => w.latency.max)),
          worstPredictMs: Math.max(0, ...completionWindows.filter((w) => w.predict.count > 0).map((w) => w.predict.max)),
          medianOfWindowP50Ms: ((p50s) => p50s[Math.floor(p50s.length / 2)] ?? null)(
            completionWindows.filter((w) => w.latency.count > 0).map((w) => w.latency.p50).sort((a, b) => a - b),
          ),
          /** When the window of the slowest request ended (the sampler's windows are 250 ms and its own latency). */
          worstLatencyAtS: completionWindows.filter((w) => w.latency.count > 0).reduce<{ ms: number; atS: number | null }>(
            (worst, w) => (w.latency.max > worst.ms ? { ms: w.latency.max, atS: w.atS } : worst),
            { ms: 0, atS: null },
          ).atS,
        },
        model: end.model,
      };
      recordMetrics(CONTROL_S > 0 ? 'large-workspace-control' : 'large-workspace', figures);
      if (CONTROL_S === 0) assert.equal(end.model.origin, 'workspace', `the trained model is in use: ${JSON.stringify(end.model)}`);
      // The reliability issue's target: the extension host's event loop never stalls more than 50 ms, over
      // the whole run (the extension's own histogram and this test's 5 ms ticks), whether the thread computed
      // or waited for a core; and no turn computes longer than that.
      assert.ok(figures.worstEventLoopGapMs <= 50, `the event loop stalled ${figures.worstEventLoopGapMs} ms: ${JSON.stringify(lateTurns)}`);
      assert.ok(figures.worstBusyTurnMs <= 50, `a turn of the event loop computed ${figures.worstBusyTurnMs} ms: ${JSON.stringify(lateTurns)}`);
    });
  });
}
