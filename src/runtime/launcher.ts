// The process launcher (process-launcher.ts): a small child process of the editor that starts the
// editor's other child processes (the training process, the n-gram servers), so that the editor, holding
// hundreds of megabytes, never forks itself again, and waits for them when they end. Each child gets a
// socket pair as file descriptor 3, whose other end goes to the editor; the launcher keeps nothing of it.
// It ends when the editor does (its channel closes); the children end by themselves then (theirs close).

import type { ChildProcess } from 'node:child_process';
import { CHANNEL_FD_ENV, forkScript, type FromLauncher, type ToLauncher } from './process-launcher.js';

const children = new Map<number, ChildProcess>();
const send = (m: FromLauncher, handle?: unknown) => process.send?.(m, handle as never, {}, () => undefined);

process.on('message', (m: ToLauncher) => {
  if (m.type === 'kill') {
    children.get(m.id)?.kill('SIGKILL');
    return;
  }
  let child: ChildProcess;
  try {
    child = forkScript(m.script, {
      execArgv: m.execArgv,
      // fd 3: the channel to the editor; the IPC channel to the launcher (fd 4) is unused, and the child
      // lets go of it.
      stdio: ['ignore', 'inherit', 'inherit', 'pipe', 'ipc'],
      env: { [CHANNEL_FD_ENV]: '3' },
      nice: m.nice,
    });
  } catch (e) {
    send({ type: 'failed', id: m.id, message: `could not start ${m.script}: ${(e as Error).message}` });
    return;
  }
  children.set(m.id, child);
  child.once('spawn', () => send({ type: 'spawned', id: m.id, pid: child.pid! }, child.stdio[3]));
  child.once('error', (e) => {
    if (child.pid === undefined) send({ type: 'failed', id: m.id, message: `could not start ${m.script}: ${e.message}` });
  });
  child.once('exit', (code, signal) => {
    children.delete(m.id);
    send({ type: 'exit', id: m.id, code, signal });
  });
});

// The editor is gone: so is the reason to be. The children's channels to it have closed: they end too.
process.on('disconnect', () => process.exit(0));
