#!/usr/bin/env node
'use strict';
// Prints result files' tables as Markdown (for bench/RESULTS.md):
//   node bench/markdown.js [file ...]      (default bench/results/latest.json)
// With several files, each scenario comes from the last file that has it, and each table
// names the run it comes from.
const fs = require('node:fs');
const path = require('node:path');
const { markdown } = require('./lib/report');

const files = process.argv.slice(2);
if (files.length === 0) files.push(path.join(__dirname, 'results', 'latest.json'));
const runs = files.map((file) => JSON.parse(fs.readFileSync(file, 'utf8')));
const chosen = new Map();
for (const run of runs) for (const [key, scenario] of Object.entries(run.scenarios)) chosen.set(key, { run, scenario });

const m = runs[0].machine;
console.log(`Machine: ${m.cpus} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, PostgreSQL ${m.postgres}, Redis ${m.redis}, open-files limit ${m.openFilesLimit}.\n`);
for (const { run, scenario } of [...chosen.values()].sort((a, b) => a.scenario.number - b.scenario.number)) {
  console.log(`${markdown(scenario)}\n\n_From the ${run.mode} run of ${run.startedAt}._\n`);
}
for (const run of runs) if (run.errors.length) console.log(`Errors in the run of ${run.startedAt}: ${run.errors.map((e) => `${e.scenario ?? 'setup'}: ${e.error}`).join('; ')}\n`);
