'use strict';
// Figures, targets and the printed tables.

/**
 * A figure row. `better` says which direction is good, for the ratio's meaning:
 * ratio = project / baseline, always (so 0.5 on throughput is half as fast, 2.0 on
 * latency or memory is twice as much).
 */
function figure({ key, label, unit, project, baseline = null, better = 'higher', target = null, note = null }) {
  const ratio = baseline !== null && baseline !== undefined && project !== null && project !== undefined && baseline !== 0 ? project / baseline : null;
  return { key, label, unit, project: round(project), baseline: round(baseline), ratio: round(ratio, 3), better, target, note };
}

/** A target on one figure: { text, met } where met is true, false or null (not measurable). */
function target(text, met) {
  return { text, met: met === null || met === undefined ? null : Boolean(met) };
}

function round(value, digits) {
  if (value === null || value === undefined || !Number.isFinite(value)) return value === undefined ? null : value;
  if (digits !== undefined) return Number(value.toFixed(digits));
  const abs = Math.abs(value);
  return Number(value.toFixed(abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3));
}

function fmt(value) {
  if (value === null || value === undefined) return '-';
  if (typeof value !== 'number') return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function status(t) {
  if (!t) return '';
  return t.met === null ? 'n/a' : t.met ? 'met' : 'NOT MET';
}

/** One scenario's table as text. */
function table(result) {
  const header = ['figure', 'chat-api', result.baselineName || 'baseline', 'ratio', 'target', 'status'];
  const rows = result.figures.map((f) => [
    f.unit ? `${f.label} (${f.unit})` : f.label,
    fmt(f.project),
    fmt(f.baseline),
    f.ratio === null ? '-' : f.ratio.toFixed(2),
    f.target ? f.target.text : '',
    status(f.target),
  ]);
  const widths = header.map((_, col) => Math.max(header[col].length, ...rows.map((row) => row[col].length)));
  const line = (cells) => cells.map((cell, col) => (col === 0 || col >= 4 ? cell.padEnd(widths[col]) : cell.padStart(widths[col]))).join('  ').trimEnd();
  const out = [`${result.title}`, line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of rows) out.push(line(row));
  for (const note of result.notes || []) out.push(`  note: ${note}`);
  for (const f of result.figures) if (f.note) out.push(`  note (${f.label}): ${f.note}`);
  return out.join('\n');
}

/** The same table in Markdown, for bench/RESULTS.md. */
function markdown(result) {
  const out = [`**${result.title}**`, '', `| figure | chat-api | ${result.baselineName || 'baseline'} | ratio | target | status |`, '| --- | ---: | ---: | ---: | --- | --- |'];
  for (const f of result.figures) {
    out.push(`| ${f.unit ? `${f.label} (${f.unit})` : f.label} | ${fmt(f.project)} | ${fmt(f.baseline)} | ${f.ratio === null ? '-' : f.ratio.toFixed(2)} | ${f.target ? f.target.text : ''} | ${status(f.target)} |`);
  }
  for (const note of result.notes || []) out.push('', `${note}`);
  return out.join('\n');
}

module.exports = { figure, target, table, markdown, fmt };
