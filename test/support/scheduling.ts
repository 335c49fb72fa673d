// Linux scheduling facts of a child process, read from /proc, for the tests of background processes.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

/**
 * Where the kernel groups sessions (autogroups): `pid` leads a session of its own, whose group runs at
 * `nice`, and this process's group is another, untouched.
 */
export function assertOwnSchedulingGroup(pid: number, nice: number): void {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  assert.equal(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]), pid, 'a session of its own');
  let own: string;
  try {
    own = readFileSync('/proc/self/autogroup', 'utf8');
  } catch {
    return; // no autogroups in this kernel: nothing more to check
  }
  const group = readFileSync(`/proc/${pid}/autogroup`, 'utf8');
  assert.match(group, new RegExp(`nice ${nice}\\s*$`), `its group: ${group}`);
  // Empty when this process is in no autogroup (its session was never set up after boot, as in some
  // containers): the root group, which no one changed, so nothing more to compare.
  if (own.trim() === '') return;
  assert.notEqual(group.split(' ')[0], own.split(' ')[0], 'not this process\'s group');
  assert.match(own, /nice 0\s*$/, `this process's group untouched: ${own}`);
}
