// Preloaded (NODE_OPTIONS=--require) into every thread of a process under test: any use of the network is
// written to $NEXTWORD_NETWORK_LOG and fails. Covers Node's network modules (net, tls, http, https, http2,
// dgram, dns) and the globals (fetch, WebSocket); and, below JavaScript, on Linux: every 20 ms and at exit,
// whether any of the process's file descriptors is an internet socket (a native library opening one).
'use strict';
const fs = require('node:fs');
const { isMainThread, threadId } = require('node:worker_threads');

const LOG = process.env.NEXTWORD_NETWORK_LOG;
if (!LOG) throw new Error('deny-network.cjs needs NEXTWORD_NETWORK_LOG');
const record = (what) => fs.appendFileSync(LOG, `${process.pid}/${threadId} ${what}\n`);
const deny = (what) =>
  function denied() {
    record(what);
    throw new Error(`network access denied: ${what}`);
  };
const patch = (obj, names, prefix) => {
  for (const name of names) if (obj && typeof obj[name] === 'function') obj[name] = deny(`${prefix}.${name}`);
};

const net = require('node:net');
patch(net, ['connect', 'createConnection'], 'net');
patch(net.Socket.prototype, ['connect'], 'net.Socket');
patch(net.Server.prototype, ['listen'], 'net.Server');
patch(require('node:tls'), ['connect'], 'tls');
patch(require('node:http'), ['request', 'get'], 'http');
patch(require('node:https'), ['request', 'get'], 'https');
patch(require('node:http2'), ['connect'], 'http2');
patch(require('node:dgram'), ['createSocket'], 'dgram');
const dns = require('node:dns');
patch(dns, ['lookup', 'lookupService', 'resolve', 'resolve4', 'resolve6', 'resolveAny', 'reverse'], 'dns');
patch(dns.promises, ['lookup', 'lookupService', 'resolve', 'resolve4', 'resolve6', 'resolveAny', 'reverse'], 'dns.promises');
for (const name of ['fetch', 'WebSocket', 'EventSource']) {
  if (name in globalThis) Object.defineProperty(globalThis, name, { value: deny(name), configurable: true, writable: true });
}

// Internet sockets held by this process (Linux): inodes of its socket descriptors found in /proc/net/{tcp,udp}[6].
function inetSockets() {
  let fds;
  try {
    fds = fs.readdirSync('/proc/self/fd');
  } catch {
    return []; // not Linux
  }
  const inodes = new Set();
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  if (inodes.size === 0) return [];
  const found = [];
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6', 'raw', 'raw6']) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/self/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && inodes.has(cols[9])) found.push(`${table} socket (inode ${cols[9]})`);
    }
  }
  return found;
}
if (isMainThread) {
  const check = () => {
    for (const s of inetSockets()) record(`open ${s}`);
  };
  setInterval(check, 20).unref();
  process.on('exit', check);
}
