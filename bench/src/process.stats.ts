import { readFileSync } from 'node:fs';

/** A /proc/<pid>/status field in kB (VmHWM = peak resident set, VmRSS = current), or null when absent. */
export function statusKb(status: string, field: 'VmHWM' | 'VmRSS'): number | null {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB$`, 'm').exec(status);
  return m ? Number(m[1]) : null;
}

/** Peak RSS of a live process in MiB (Linux only); null when the process is gone or /proc is absent. */
export function peakRssMb(pid: number): number | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = statusKb(status, 'VmHWM');
  return kb === null ? null : kb / 1024;
}
