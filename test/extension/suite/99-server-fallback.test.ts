// The last resort of model serving: where model servers keep dying, the extension opens the model in the
// extension host itself (model-manager.ts: after three servers failed within ten minutes), so completions go
// on. Runs last, as the extension then serves its models in the host for the next ten minutes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'mocha';
import { acceptInlineCompletion, appendParagraph, expectPerplexityAsEval, openAtEnd, settledModel, stats, waitFor, WORD_PROMPT } from '../helpers.js';

/** The manager's MAX_SERVER_FAILURES: servers that may die (within ten minutes) before the model is opened in the host. */
const SERVERS_BEFORE_FALLBACK = 3;

describe('model servers that keep dying', () => {
  it('make the extension open the model in the extension host, which completes and scores as nextword eval does', async function () {
    this.timeout(120_000);
    const first = await settledModel();
    assert.equal(first.state, 'ready', JSON.stringify(first));
    // The startup suite killed one server already; each kill here is one more failure.
    let kills = 0;
    let model = first;
    while (model.servedByPid !== process.pid) {
      assert.ok(kills < SERVERS_BEFORE_FALLBACK, `still served by process ${model.servedByPid} after ${kills} servers were killed here`);
      const pid = model.servedByPid;
      assert.ok(typeof pid === 'number', `served by ${pid}`);
      process.kill(pid, 'SIGKILL');
      kills++;
      model = await waitFor(`the model loaded again after server ${pid} was killed`, async () => {
        const m = (await stats()).model;
        return m.state === 'ready' && m.servedByPid !== pid ? m : undefined;
      }, 60_000);
    }
    assert.ok(kills >= 1, 'at least one server was killed here');
    assert.deepEqual({ origin: model.origin, dir: model.dir }, { origin: first.origin, dir: first.dir }, 'the same model, opened in the host');
    // Opened in this process: onnxruntime is now loaded here (it never is otherwise; see 1-activation).
    const mapped = readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => /onnxruntime/i.test(l));
    assert.ok(mapped.length > 0, 'onnxruntime is loaded into the extension host');

    const editor = await openAtEnd('draft.md');
    await appendParagraph(editor, WORD_PROMPT);
    assert.match(await acceptInlineCompletion(editor, WORD_PROMPT), /\S/, 'it completes from the model in the host');
    await openAtEnd('notes/harbour.md');
    await expectPerplexityAsEval('notes/harbour.md', model.dir!);
  });
});
