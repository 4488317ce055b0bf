// Canvas chart primitives: scales, ticks, axes, colours, a hover tooltip.
//
// Canvas rather than SVG: 10,000 points or polylines are one draw call loop on a canvas, while as
// SVG nodes they would cost the browser seconds of layout.

import { h } from '../dom.js';
import { num } from '../format.js';

export function cssVar(name, fallback) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

export function theme() {
  return {
    fg: cssVar('--fg', '#1d2330'),
    muted: cssVar('--muted', '#6b7385'),
    grid: cssVar('--grid', '#e6e9ef'),
    bg: cssVar('--panel', '#ffffff'),
    accent: cssVar('--accent', '#2557d6'),
    status: {
      SUCCEEDED: cssVar('--st-succeeded', '#1a9b5b'),
      FAILED: cssVar('--st-failed', '#d33a2c'),
      RUNNING: cssVar('--st-running', '#2557d6'),
      WAITING: cssVar('--st-waiting', '#8a94a6'),
      USER_CANCELED: cssVar('--st-canceled', '#c77c11'),
      SYS_CANCELED: cssVar('--st-canceled', '#c77c11'),
      EARLY_STOPPED: cssVar('--st-early', '#8a4fd1'),
      UNKNOWN: cssVar('--st-waiting', '#8a94a6'),
    },
  };
}

// A perceptually ordered ramp from cool (worse) to warm (better), chosen for this portal.
const RAMP = [[48, 59, 140], [33, 120, 181], [39, 174, 160], [140, 198, 79], [247, 196, 39], [232, 98, 40]];

/** Colour of t in [0, 1] on the ramp, as an rgba() string. */
export function rampColor(t, alpha = 1) {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(x));
  const f = x - i;
  const a = RAMP[i];
  const b = RAMP[i + 1];
  const c = (k) => Math.round(a[k] + (b[k] - a[k]) * f);
  return `rgba(${c(0)},${c(1)},${c(2)},${alpha})`;
}

export function rampGradient(ctx, x0, y0, x1, y1) {
  const gradient = ctx.createLinearGradient(x0, y0, x1, y1);
  RAMP.forEach((rgb, i) => gradient.addColorStop(i / (RAMP.length - 1), `rgb(${rgb.join(',')})`));
  return gradient;
}

/** "Nice" tick values covering [min, max]. */
export function niceTicks(min, max, count = 6, integer = false) {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const span = max - min;
  const raw = span / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => span / s <= count) || 10 * magnitude;
  // counts (trial numbers, report indexes) never get fractional ticks
  if (integer) step = Math.max(1, Math.round(step));
  const ticks = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  }
  return ticks;
}

export function logTicks(min, max) {
  const ticks = [];
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const every = Math.max(1, Math.ceil((hi - lo) / 8));
  for (let e = lo; e <= hi; e += every) {
    const v = 10 ** e;
    if (v >= min * 0.999 && v <= max * 1.001) ticks.push(v);
  }
  return ticks.length >= 2 ? ticks : [min, max];
}

/** A scale maps data values to pixels; `kind` is 'linear', 'log' or 'band' (categories). */
export function makeScale(kind, domain, range, { integer = false } = {}) {
  const [r0, r1] = range;
  if (kind === 'band') {
    const categories = domain;
    const index = new Map(categories.map((c, i) => [String(c), i]));
    const n = categories.length;
    const at = (i) => (n <= 1 ? (r0 + r1) / 2 : r0 + ((r1 - r0) * i) / (n - 1));
    return {
      kind, domain, range,
      map: (v) => {
        const i = index.get(String(v));
        return i === undefined ? NaN : at(i);
      },
      invert: (p) => categories[Math.max(0, Math.min(n - 1, Math.round(((p - r0) / (r1 - r0 || 1)) * (n - 1))))],
      ticks: () => categories.map((c, i) => ({ value: c, pos: at(i), label: String(c) })),
    };
  }
  let [d0, d1] = domain;
  if (kind === 'log') {
    d0 = Math.log10(d0);
    d1 = Math.log10(d1);
  }
  if (d0 === d1) {
    const pad = Math.abs(d0) * 0.05 || 1;
    d0 -= pad;
    d1 += pad;
  }
  const k = (r1 - r0) / (d1 - d0);
  const map = kind === 'log'
    ? (v) => (v > 0 ? r0 + (Math.log10(v) - d0) * k : NaN)
    : (v) => r0 + (v - d0) * k;
  const invert = kind === 'log' ? (p) => 10 ** (d0 + (p - r0) / k) : (p) => d0 + (p - r0) / k;
  return {
    kind, domain, range, map, invert,
    ticks: (count = 6) => {
      const values = kind === 'log' ? logTicks(10 ** d0, 10 ** d1) : niceTicks(d0, d1, count, integer);
      return values.map((value) => ({ value, pos: map(value), label: num(value, 4) }));
    },
  };
}

/** Extent of finite numbers; `log` keeps positive ones only. */
export function extent(values, log = false) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (typeof v !== 'number' || !Number.isFinite(v) || (log && v <= 0)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? [lo, hi] : null;
}

export function padExtent([lo, hi], fraction = 0.05) {
  const pad = (hi - lo) * fraction || Math.abs(hi) * fraction || 1;
  return [lo - pad, hi + pad];
}

/**
 * A canvas that fills its container's width, keeps crisp at any device pixel ratio and redraws
 * on resize. `draw(ctx, width, height)` paints in CSS pixels; `overlay(ctx, width, height)`, when
 * given, paints hover marks over a saved copy of the drawing, so that moving the mouse over
 * 10,000 lines repaints one highlight instead of all of them.
 */
export class CanvasPanel {
  constructor(container, { height = 320, draw, overlay = null, hasOverlay = () => false, label = 'chart' }) {
    this.container = container;
    this.height = height;
    this.drawFn = draw;
    this.overlayFn = overlay;
    this.hasOverlay = hasOverlay;
    this.base = null;
    this.canvas = h('canvas.chart-canvas', { role: 'img', 'aria-label': label });
    this.tooltip = h('div.chart-tip', { hidden: true });
    this.wrap = h('div.chart-wrap', this.canvas, this.tooltip);
    container.appendChild(this.wrap);
    this.width = 0;
    this._frame = 0;
    this._observer = new ResizeObserver(() => this.schedule());
    this._observer.observe(this.wrap);
  }

  schedule() {
    if (this._frame) return;
    this._frame = requestAnimationFrame(() => {
      this._frame = 0;
      this.render();
    });
  }

  render() {
    const width = Math.max(200, Math.floor(this.wrap.clientWidth));
    const height = this.height;
    const ratio = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
      this.canvas.style.width = `${width}px`;
      this.canvas.style.height = `${height}px`;
    }
    this.width = width;
    const ctx = this.canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    this.drawFn(ctx, width, height);
    this.base = null;
    // the saved copy is made only when an overlay is to be drawn: copying forces the browser to
    // rasterize the drawing at once, which is most of a first render's cost with many marks
    if (this.overlayFn && this.hasOverlay()) {
      this.saveBase();
      this.overlayFn(ctx, width, height);
    }
  }

  saveBase() {
    if (!this.base) this.base = document.createElement('canvas');
    this.base.width = this.canvas.width;
    this.base.height = this.canvas.height;
    this.base.getContext('2d').drawImage(this.canvas, 0, 0);
  }

  /** Repaint only the overlay (on the next frame), over the saved drawing. */
  scheduleOverlay() {
    if (!this.overlayFn || this._overlayFrame || !this.width) return;
    this._overlayFrame = requestAnimationFrame(() => {
      this._overlayFrame = 0;
      if (!this.base) this.saveBase(); // the canvas holds the plain drawing: render() drew no overlay
      const ctx = this.canvas.getContext('2d');
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
      ctx.drawImage(this.base, 0, 0);
      const ratio = window.devicePixelRatio || 1;
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      this.overlayFn(ctx, this.width, this.height);
    });
  }

  showTip(x, y, lines) {
    const tip = this.tooltip;
    tip.replaceChildren(...lines.map((line, i) => h(i === 0 ? 'strong' : 'div', line)));
    tip.hidden = false;
    const maxX = this.wrap.clientWidth - tip.offsetWidth - 4;
    tip.style.left = `${Math.max(4, Math.min(maxX, x + 12))}px`;
    tip.style.top = `${Math.max(4, y - tip.offsetHeight - 8)}px`;
  }

  hideTip() {
    this.tooltip.hidden = true;
  }

  destroy() {
    this._observer.disconnect();
    cancelAnimationFrame(this._frame);
    cancelAnimationFrame(this._overlayFrame);
    this.wrap.remove();
  }
}

/** Draw x and y axes with grid lines inside the plot frame {left, top, right, bottom}. */
export function drawAxes(ctx, frame, xScale, yScale, { xLabel = '', yLabel = '', colors, xTickCount = 8 } = {}) {
  const { left, top, right, bottom } = frame;
  ctx.save();
  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;
  ctx.strokeStyle = colors.grid;
  ctx.fillStyle = colors.muted;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const tick of yScale.ticks(6)) {
    if (tick.pos < top - 0.5 || tick.pos > bottom + 0.5) continue;
    ctx.beginPath();
    ctx.moveTo(left, Math.round(tick.pos) + 0.5);
    ctx.lineTo(right, Math.round(tick.pos) + 0.5);
    ctx.stroke();
    ctx.fillText(tick.label, left - 6, tick.pos);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  let lastEnd = -Infinity;
  for (const tick of xScale.ticks(xTickCount)) {
    if (tick.pos < left - 0.5 || tick.pos > right + 0.5) continue;
    const label = tick.label.length > 14 ? `${tick.label.slice(0, 13)}…` : tick.label;
    const width = ctx.measureText(label).width;
    ctx.beginPath();
    ctx.moveTo(Math.round(tick.pos) + 0.5, top);
    ctx.lineTo(Math.round(tick.pos) + 0.5, bottom);
    ctx.stroke();
    if (tick.pos - width / 2 > lastEnd + 4) {
      ctx.fillText(label, tick.pos, bottom + 6);
      lastEnd = tick.pos + width / 2;
    }
  }
  ctx.strokeStyle = colors.muted;
  ctx.beginPath();
  ctx.moveTo(left, bottom + 0.5);
  ctx.lineTo(right, bottom + 0.5);
  ctx.stroke();
  ctx.fillStyle = colors.fg;
  ctx.font = '12px system-ui, sans-serif';
  if (xLabel) ctx.fillText(xLabel, (left + right) / 2, bottom + 24);
  if (yLabel) {
    ctx.save();
    ctx.translate(14, (top + bottom) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'middle';
    ctx.fillText(yLabel, 0, 0);
    ctx.restore();
  }
  ctx.restore();
}

/** Index of the point nearest to (x, y) within `radius` pixels, or -1. */
export function nearest(xs, ys, x, y, radius = 12) {
  let best = -1;
  let bestDistance = radius * radius;
  for (let i = 0; i < xs.length; i += 1) {
    const dx = xs[i] - x;
    const dy = ys[i] - y;
    const d = dx * dx + dy * dy;
    if (d <= bestDistance) {
      bestDistance = d;
      best = i;
    }
  }
  return best;
}

export function emptyMessage(ctx, width, height, text, colors) {
  ctx.fillStyle = colors.muted;
  ctx.font = '13px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, width / 2, height / 2);
}
