import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { join } from 'node:path';

/** One measured number, with the ceiling it is judged against (measured in the same run). */
export interface Figure {
  value: number | null;
  unit: string;
  ceiling: number | null;
  ratio: number | null;
  /** Which figure the ceiling is, or why there is none. */
  note?: string;
}

export type Figures = Record<string, Figure>;

export function figure(value: number | null, unit: string, ceiling: number | null = null, note?: string): Figure {
  const ratio = value !== null && ceiling !== null && ceiling !== 0 ? round(value / ceiling, 4) : null;
  return {
    value: value === null ? null : round(value, 3),
    unit,
    ceiling: ceiling === null ? null : round(ceiling, 3),
    ratio,
    ...(note ? { note } : {}),
  };
}

export function notMeasured(unit: string, why: string): Figure {
  return { value: null, unit, ceiling: null, ratio: null, note: why };
}

export function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function machine(): Record<string, unknown> {
  const cpu = cpus();
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    kernel: release(),
    at: new Date().toISOString(),
  };
}

export function writeResults(dir: string, mode: string, figures: Figures): { json: string; md: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'latest.json');
  const md = join(dir, 'latest.md');
  const body = { machine: { ...machine(), mode }, figures };
  writeFileSync(json, JSON.stringify(body, null, 2) + '\n');
  writeFileSync(md, renderMarkdown(mode, figures));
  return { json, md };
}

export function renderMarkdown(mode: string, figures: Figures): string {
  const m = machine();
  const lines = [
    `# Backbone benchmark (${mode})`,
    '',
    `${m['cpus']} × ${String(m['cpuModel'])}, ${String(m['memoryGiB'])} GiB, Node ${String(m['node'])}, ${String(m['at'])}`,
    '',
    '| figure | value | unit | ceiling | ratio | note |',
    '|---|---:|---|---:|---:|---|',
  ];
  for (const [name, f] of Object.entries(figures)) {
    lines.push(`| ${name} | ${f.value ?? '—'} | ${f.unit} | ${f.ceiling ?? '—'} | ${f.ratio ?? '—'} | ${f.note ?? ''} |`);
  }
  return lines.join('\n') + '\n';
}
