// Formatting of numbers, times and statuses for display.

export const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'USER_CANCELED', 'SYS_CANCELED', 'EARLY_STOPPED']);
export const ACTIVE_TRIAL = new Set(['RUNNING', 'WAITING', 'UNKNOWN']);
// statuses during which the experiment's clock runs (as the manager counts them)
export const COUNTING = new Set(['RUNNING', 'NO_MORE_TRIAL', 'TUNER_NO_MORE_TRIAL']);
export const FINAL_EXPERIMENT = new Set(['DONE', 'ERROR', 'STOPPED', 'VIEWED']);

export const STATUS_LABEL = {
  SUCCEEDED: 'Succeeded', FAILED: 'Failed', RUNNING: 'Running', WAITING: 'Waiting', UNKNOWN: 'Unknown',
  USER_CANCELED: 'Canceled', SYS_CANCELED: 'Sys. canceled', EARLY_STOPPED: 'Early stopped',
  ADD_RESUMED: 'Resumed',
};

export function statusLabel(status) {
  return STATUS_LABEL[status] || String(status || '').replace(/_/g, ' ').toLowerCase();
}

export function statusClass(status) {
  return `st-${String(status || 'unknown').toLowerCase().replace(/_/g, '-')}`;
}

/** A metric or parameter value: short but exact enough to compare trials. */
export function num(value, digits = 6) {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'number') return String(value);
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e7)) return value.toExponential(digits > 4 ? 3 : 2).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(digits)));
}

export function value(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return num(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Seconds as "1h 02m 03s"; tenths under ten seconds (unless whole), so a quick trial shows "0.4s", not "0s". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '';
  if (seconds < 9.95 && !Number.isInteger(seconds)) return `${Math.max(0, seconds).toFixed(1)}s`;
  let s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hh = Math.floor(s / 3600);
  s -= hh * 3600;
  const mm = Math.floor(s / 60);
  s -= mm * 60;
  const pad = (n) => String(n).padStart(2, '0');
  if (d) return `${d}d ${pad(hh)}h ${pad(mm)}m`;
  if (hh) return `${hh}h ${pad(mm)}m ${pad(s)}s`;
  if (mm) return `${mm}m ${pad(s)}s`;
  return `${s}s`;
}

/** Milliseconds of a trial's run so far (or in total). */
export function trialMillis(trial, now = Date.now()) {
  if (!trial || !trial.start) return null;
  const end = trial.end || (TERMINAL.has(trial.status) ? trial.start : now);
  return Math.max(0, end - trial.start);
}

const pad2 = (n) => String(n).padStart(2, '0');

export function time(ms) {
  if (!ms) return '';
  const date = new Date(ms);
  return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} `
    + `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
}

/** Config durations: "30m", "2h", "1d", "45s" or seconds. */
export function parseDuration(text) {
  if (typeof text === 'number') return text;
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/i.exec(String(text || ''));
  if (!match) return null;
  const factor = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2].toLowerCase()];
  return Number(match[1]) * factor;
}

export function bytes(size) {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

/** Decode a double-encoded NNI metric string, tolerating NaN and Infinity like Python does. */
export function parseMetricData(data) {
  let value = data;
  for (let i = 0; i < 2 && typeof value === 'string'; i += 1) {
    try {
      value = JSON.parse(value);
    } catch {
      const cleaned = value.replace(/-?\bInfinity\b|\bNaN\b/g, 'null');
      try {
        value = JSON.parse(cleaned);
      } catch {
        return null;
      }
    }
  }
  return value;
}
