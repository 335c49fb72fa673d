// The load test: Train on Workspace on a huge workspace (scripts/bench/large-workspace.ts makes one of
// 100,000 files, 1 GB), run only when the runner opens such a folder (run-in-host.ts --workspace, which
// sets NEXTWORD_LOAD_TEST=1). It samples the run every 250 ms and records, for the whole run: its phases'
// times, the worst event-loop gap of the extension host, its peak RSS, and completions typed while the
// network trains (answered by the n-gram model of the workspace), and holds the run to the 50 ms target.
// Figures: out/in-host/metrics.json. It is not part of CI (it needs the 1 GB workspace and minutes).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { after, describe, it } from 'mocha';
import * as vscode from 'vscode';
import { acceptInlineCompletion, appendParagraph, openAtEnd, recordMetrics, sleep, stats, waitFor } from '../helpers.js';

const TRAIN = 'nextword.trainWorkspace';
const PROMPT = 'It was the ';

/**
 * Garbage collections of the extension host's main thread over 20 ms, seconds into the run; and with
 * NEXTWORD_LOAD_PROFILE=<file>, a CPU profile of that thread (scripts/bench/long-tasks.ts lists what ran
 * in each stretch over 50 ms).
 */
async function startProfile(): Promise<{ stop: () => Promise<{ longGcs: { atS: number; ms: number; kind: string }[] }> }> {
  const t0 = performance.now();
  const longGcs: { atS: number; ms: number; kind: string }[] = [];
  const kinds: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weak', 16: 'minor' };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
      if (e.duration > 20) longGcs.push({ atS: Math.round((e.startTime - t0) / 10) / 100, ms: Math.round(e.duration), kind: kinds[kind] ?? String(kind) });
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const file = process.env.NEXTWORD_LOAD_PROFILE;
  const session = file ? new inspector.Session() : undefined;
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session!.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))));
  if (session) {
    session.connect();
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 500 });
    await post('Profiler.start');
  }
  return {
    stop: async () => {
      observer.disconnect();
      if (session && file) {
        const { profile } = (await post('Profiler.stop')) as { profile: unknown };
        writeFileSync(file, JSON.stringify(profile));
        session.disconnect();
      }
      return { longGcs };
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
      let peakRss = 0;
      let done = false;
      const run = Promise.resolve(vscode.commands.executeCommand(TRAIN)).finally(() => (done = true));
      const sampler = (async () => {
        while (!done) {
          const s = (await stats({ reset: true })) as unknown as { training: { phase?: string } | null; memory: { rss: number }; eventLoopDelayMs: { max: number }; model: { origin?: string } };
          peakRss = Math.max(peakRss, s.memory.rss);
          const phase = s.training?.phase;
          if (phase && phases[phase] === undefined) phases[phase] = (Date.now() - t0) / 1000;
          worstMs = Math.max(worstMs, s.eventLoopDelayMs.max);
          if (s.eventLoopDelayMs.max > 50) stalls.push({ atS: (Date.now() - t0) / 1000, phase: `${phase ?? 'done'}/${s.model.origin}`, maxMs: Math.round(s.eventLoopDelayMs.max) });
          await sleep(250);
        }
      })();

      // While the network trains, the n-gram model of the workspace completes.
      await waitFor('the n-gram model to serve', async () => ((await stats()).model.origin === 'interim' ? true : undefined), 600_000, 250);
      const servedAtS = (Date.now() - t0) / 1000;
      const editor = await openAtEnd('part-0000/note-0.md');
      await appendParagraph(editor, PROMPT);
      const inserted = await acceptInlineCompletion(editor, PROMPT, 30_000);
      assert.ok(inserted.length > 0, 'a completion while the network trains');
      const whileTraining = (await stats()).completions; // since the sampler's last reset
      await vscode.commands.executeCommand('workbench.action.files.revert');

      await run;
      await sampler;
      const { longGcs } = await profile.stop();
      const end = await stats();
      const figures = {
        seconds: (Date.now() - t0) / 1000,
        phasesStartedAtS: phases,
        interimServedAtS: servedAtS,
        worstEventLoopGapMs: Math.round(Math.max(worstMs, end.eventLoopDelayMs.max)),
        stalls,
        peakRssMB: Math.round(peakRss / 1048576),
        longGcs,
        completionsWhileTraining: { requests: whileTraining.requests, shown: whileTraining.shown },
        model: end.model,
      };
      recordMetrics('large-workspace', figures);
      assert.equal(end.model.origin, 'workspace', `the trained model is in use: ${JSON.stringify(end.model)}`);
      // The reliability issue's target. Not met yet on 100,000 files (2026-11-27: 444 ms while VS Code lists
      // them, ~200 ms when the n-gram model arrives): this test fails until it is.
      assert.ok(figures.worstEventLoopGapMs <= 50, `the event loop stalled ${figures.worstEventLoopGapMs} ms: ${JSON.stringify(stalls)}`);
    });
  });
}
