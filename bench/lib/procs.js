'use strict';
// Child processes of a bench run: the servers under test, the baselines and the load
// generators. Every child is registered so the runner can stop them all (by pid) on any exit.
const { fork, spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { sleep } = require('./clock');

const children = new Set();

function register(child, name) {
  child.benchName = name;
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Stops one child: SIGTERM, then SIGKILL after `graceMs`. */
async function stop(child, graceMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Stops every child still running (used on exit paths). */
async function stopAll() {
  await Promise.all([...children].map((child) => stop(child, 3000)));
}

/** Last chance on a hard exit: SIGKILL whatever is left, synchronously. */
function killAllNow() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Keeps the tail of a child's output, printed when it fails. */
function captureOutput(child, lines = 40) {
  const tail = [];
  const push = (chunk) => {
    for (const line of String(chunk).split('\n')) {
      if (!line) continue;
      tail.push(line);
      if (tail.length > lines) tail.shift();
    }
  };
  child.stdout?.on('data', push);
  child.stderr?.on('data', push);
  return () => tail.join('\n');
}

function httpGetStatus(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => req.destroy());
  });
}

/** Polls `url` until it answers 200; fails if the child exits first or time runs out. */
async function waitReady(child, url, output, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.benchName} exited with ${child.exitCode}:\n${output()}`);
    if ((await httpGetStatus(url)) === 200) return;
    await sleep(100);
  }
  throw new Error(`${child.benchName} was not ready within ${timeoutMs} ms:\n${output()}`);
}

/**
 * Starts a long-running server process (`node <script>`), waits for `readyPath` to answer
 * 200, and resolves with { child, port, url, pid, output }.
 */
async function startServer({ name, script, env, readyPath = '/readyz', timeoutMs = 60_000, nodeArgs = [] }) {
  const port = await freePort();
  const child = register(
    spawn(process.execPath, [...nodeArgs, script], {
      // Only what the process is given: nothing leaks in from the caller's environment (e.g. jest's).
      env: { PATH: process.env.PATH || '', HOME: process.env.HOME || '', ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
    name,
  );
  const output = captureOutput(child);
  await waitReady(child, `http://127.0.0.1:${port}${readyPath}`, output, timeoutMs);
  return { child, port, pid: child.pid, url: `http://127.0.0.1:${port}/graphql`, wsUrl: `ws://127.0.0.1:${port}/graphql`, output };
}

/** Resident set size of a process in bytes (Linux /proc). */
function rssBytes(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

/**
 * CPU time (user + system) a process has used so far, in ms: the sum of its threads' run time
 * (Linux /proc/<pid>/task/<tid>/schedstat, nanoseconds). /proc/<pid>/stat counts 10 ms clock
 * ticks, too coarse for a short quick-mode step (a raw server's step could read 0). A thread
 * that ended takes its time with it; the servers' threads live as long as they do.
 */
function cpuMs(pid) {
  let ns = 0;
  for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return ns / 1e6;
}

/**
 * A load generator: `node bench/gen/<name>.js` with an IPC channel. `call(cmd, args)`
 * sends a command and resolves with the generator's answer (see lib/worker.js).
 */
function startGenerator(name, label = name) {
  const child = register(fork(path.join(__dirname, '..', 'gen', `${name}.js`), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }), label);
  let nextId = 1;
  const pending = new Map();
  child.on('message', (message) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.result);
    else waiter.reject(new Error(`${label}: ${message.error}`));
  });
  child.once('exit', (code, signal) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${label} exited (${code ?? signal}) during a command`));
    pending.clear();
  });
  return {
    child,
    call(cmd, args = {}, timeoutMs = 120_000) {
      return new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${label}: ${cmd} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        child.send({ id, cmd, args });
      });
    },
    stop: () => stop(child, 3000),
  };
}

/** Several generators of one kind; `all(cmd, argsFor)` runs a command on each at once. */
function startGenerators(name, count) {
  const gens = Array.from({ length: count }, (_, index) => startGenerator(name, `${name}#${index + 1}`));
  return {
    gens,
    all: (cmd, argsFor = () => ({}), timeoutMs) => Promise.all(gens.map((gen, index) => gen.call(cmd, typeof argsFor === 'function' ? argsFor(index) : argsFor, timeoutMs))),
    stop: () => Promise.all(gens.map((gen) => gen.stop())),
  };
}

/** Splits `items` into `parts` nearly equal slices. */
function split(items, parts) {
  const out = Array.from({ length: parts }, () => []);
  items.forEach((item, index) => out[index % parts].push(item));
  return out;
}

module.exports = { startServer, startGenerator, startGenerators, stop, stopAll, killAllNow, freePort, rssBytes, cpuMs, split };
