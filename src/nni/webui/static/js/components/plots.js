// The experiment's charts, each a small class over a CanvasPanel:
// metric by trial, best so far, parallel coordinates, intermediate curves, durations, Pareto front.
//
// Every plot takes a `view` object: {trials (digest rows), metricIndex, metricKey, maximize,
// selected (Set of ids), space (search space), onOpen(id)} and draws in one pass. Colours are
// batched by bucket so that 10,000 polylines cost a few dozen strokes, not 10,000.

import { h } from '../dom.js';
import { duration, num, statusLabel, trialMillis, value as fmtValue } from '../format.js';
import {
  CanvasPanel, drawAxes, emptyMessage, extent, makeScale, nearest, padExtent, rampColor, rampGradient, theme,
} from './chart.js';

const FRAME = { left: 64, top: 16, right: 20, bottom: 44 };
/** Distinct colours for a handful of compared trials. */
export const PALETTE = ['#2557d6', '#e0631b', '#1a9b5b', '#c2338a', '#7a52c7', '#b8900c', '#0f93a8', '#d33a2c',
  '#5b6b85', '#6fae2f'];
const BUCKETS = 24;

function metricOf(trial, index) {
  if (!trial.metric) return null;
  const v = trial.metric[index];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function frameOf(width, height, extra = {}) {
  return {
    left: extra.left ?? FRAME.left,
    top: extra.top ?? FRAME.top,
    right: width - (extra.right ?? FRAME.right),
    bottom: height - (extra.bottom ?? FRAME.bottom),
  };
}

const packedColors = new Map();

/** A CSS colour as one little-endian RGBA word, as ImageData stores pixels. */
function packedColor(color) {
  let packed = packedColors.get(color);
  if (packed === undefined) {
    const probe = document.createElement('canvas');
    probe.width = 1;
    probe.height = 1;
    const context = probe.getContext('2d', { willReadFrequently: true });
    context.fillStyle = color;
    context.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = context.getImageData(0, 0, 1, 1).data;
    packed = ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
    packedColors.set(color, packed);
  }
  return packed;
}

/**
 * Many dots as pixels: written into an ImageData and composited with one drawImage. Canvas
 * draw calls cost ~10 us each in a software rasterizer (headless or GPU-less browsers), so
 * 10,000 arcs or rectangles take 100 ms or more; this takes a few.
 */
function stampDots(ctx, coords, radius) {
  const { canvas } = ctx;
  const ratio = ctx.getTransform().a || 1;
  const width = canvas.width;
  const height = canvas.height;
  const layer = new ImageData(width, height);
  const pixels = new Uint32Array(layer.data.buffer);
  const color = packedColor(ctx.fillStyle);
  const side = Math.max(2, Math.round(radius * 1.8 * ratio));
  const half = Math.floor(side / 2);
  for (let i = 0; i < coords.length; i += 2) {
    const x0 = Math.round(coords[i] * ratio) - half;
    const y0 = Math.round(coords[i + 1] * ratio) - half;
    if (!(x0 >= 0 && y0 >= 0 && x0 + side <= width && y0 + side <= height)) continue;
    for (let y = y0; y < y0 + side; y += 1) pixels.fill(color, y * width + x0, y * width + x0 + side);
  }
  const sheet = document.createElement('canvas');
  sheet.width = width;
  sheet.height = height;
  sheet.getContext('2d').putImageData(layer, 0, 0);
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.drawImage(sheet, 0, 0);
  ctx.restore();
}

/**
 * Fill round dots at the flat [x0, y0, x1, y1, ...] coordinates; past a few thousand, square
 * ones stamped as pixels (see stampDots): at that density nobody sees the corners.
 */
export function fillDots(ctx, coords, radius) {
  if (coords.length / 2 > 1500) {
    stampDots(ctx, coords, radius);
    return;
  }
  ctx.beginPath();
  for (let i = 0; i < coords.length; i += 2) {
    ctx.moveTo(coords[i] + radius, coords[i + 1]);
    ctx.arc(coords[i], coords[i + 1], radius, 0, Math.PI * 2);
  }
  ctx.fill();
}

function tipLines(trial, view, extra = []) {
  const lines = [`Trial #${trial.seq ?? '?'} · ${trial.id}`, `status: ${statusLabel(trial.status)}`, ...extra];
  const names = view.paramNames || [];
  for (let i = 0; i < Math.min(names.length, 6); i += 1) lines.push(`${names[i]}: ${fmtValue(trial.params[i])}`);
  if (names.length > 6) lines.push(`… ${names.length - 6} more`);
  return lines;
}

/** Normalised goodness in [0, 1] of a metric value (1 = best), for colouring. */
function goodness(range, maximize) {
  if (!range) return () => 0.5;
  const [lo, hi] = range;
  const span = hi - lo || 1;
  return (v) => (maximize ? (v - lo) / span : (hi - v) / span);
}

class BasePlot {
  constructor(container, { height = 340, label }) {
    this.view = null;
    this.points = { xs: [], ys: [], items: [] };
    this.panel = new CanvasPanel(container, { height, label, draw: (ctx, w, hgt) => this.draw(ctx, w, hgt),
      overlay: (ctx, w, hgt) => this.overlay(ctx, w, hgt), hasOverlay: () => this.hasOverlay() });
    this.hover = -1;
    this.rendered = null;
    this.panel.canvas.addEventListener('mousemove', (event) => this.onMove(event));
    this.panel.canvas.addEventListener('mouseleave', () => {
      this.hover = -1;
      this.panel.hideTip();
      this.panel.scheduleOverlay();
    });
    this.panel.canvas.addEventListener('click', () => {
      const item = this.points.items[this.hover];
      if (item && this.view && this.view.onOpen) this.view.onOpen(item.id);
    });
  }

  update(view) {
    this.view = view;
    const started = performance.now();
    this.panel.render();
    // drawing time per chart, readable with performance.getEntriesByType('measure')
    performance.measure(`nni:draw:${this.constructor.name}`, { start: started, end: performance.now() });
    if (this.rendered) this.rendered();
  }

  onMove(event) {
    const rect = this.panel.canvas.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    const index = nearest(this.points.xs, this.points.ys, x, y);
    if (index !== this.hover) {
      this.hover = index;
      this.panel.scheduleOverlay();
    }
    this.panel.canvas.classList.toggle('pointer', index >= 0);
    if (index < 0) {
      this.panel.hideTip();
      return;
    }
    this.panel.showTip(x, y, this.tipFor(this.points.items[index], index));
  }

  hasOverlay() {
    return this.hover >= 0;
  }

  /** Hover mark: a ring around the point under the mouse. */
  overlay(ctx) {
    if (this.hover < 0 || this.hover >= this.points.xs.length) return;
    ctx.strokeStyle = theme().fg;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(this.points.xs[this.hover], this.points.ys[this.hover], 6, 0, Math.PI * 2);
    ctx.stroke();
  }

  tipFor(trial) {
    return tipLines(trial, this.view);
  }

  destroy() {
    this.panel.destroy();
  }
}

/** Final metric of each trial by trial number, or the best value found so far. */
export class MetricPlot extends BasePlot {
  constructor(container, { mode = 'points', logScale = false } = {}) {
    super(container, { label: mode === 'best' ? 'best metric so far' : 'final metric by trial' });
    this.mode = mode;
    this.logScale = logScale;
  }

  draw(ctx, width, height) {
    const colors = theme();
    const view = this.view;
    this.points = { xs: [], ys: [], items: [] };
    if (!view) return;
    const withMetric = view.trials.filter((t) => metricOf(t, view.metricIndex) !== null && t.seq !== null);
    if (!withMetric.length) {
      // "yet" only while more can come: a finished experiment without results says so plainly
      const message = !view.finished ? 'No final results yet'
        : view.trials.length ? 'No trial reported a numeric final result' : 'No trials';
      emptyMessage(ctx, width, height, message, colors);
      return;
    }
    const frame = frameOf(width, height);
    const ys = withMetric.map((t) => metricOf(t, view.metricIndex));
    const log = this.logScale && ys.every((v) => v > 0);
    const yRange = extent(ys, log);
    const xRange = extent(view.trials.map((t) => t.seq));
    const xScale = makeScale('linear', padExtent(xRange, 0.02), [frame.left, frame.right], { integer: true });
    const yScale = makeScale(log ? 'log' : 'linear', log ? yRange : padExtent(yRange, 0.06), [frame.bottom, frame.top]);
    drawAxes(ctx, frame, xScale, yScale, {
      xLabel: 'trial number', yLabel: view.metricLabel, colors,
    });
    const byStatus = new Map();
    const radius = withMetric.length > 3000 ? 1.6 : withMetric.length > 500 ? 2.2 : 3;
    const best = this.mode === 'best';
    for (const trial of withMetric) {
      const x = xScale.map(trial.seq);
      const y = yScale.map(metricOf(trial, view.metricIndex));
      this.points.xs.push(x);
      this.points.ys.push(y);
      this.points.items.push(trial);
      const key = best ? 'faint' : trial.status;
      if (!byStatus.has(key)) byStatus.set(key, []);
      byStatus.get(key).push(x, y);
    }
    for (const [status, coords] of byStatus) {
      // behind the best-so-far line every trial is a quiet grey mark
      ctx.globalAlpha = status === 'faint' ? 0.35 : 1;
      ctx.fillStyle = status === 'faint' ? colors.muted : (colors.status[status] || colors.muted);
      fillDots(ctx, coords, radius);
    }
    ctx.globalAlpha = 1;
    if (best) this.drawBest(ctx, withMetric, xScale, yScale, colors, frame);
    const selected = view.selected;
    if (selected && selected.size) {
      ctx.strokeStyle = colors.fg;
      ctx.lineWidth = 2;
      for (let i = 0; i < this.points.items.length; i += 1) {
        if (!selected.has(this.points.items[i].id)) continue;
        ctx.beginPath();
        ctx.arc(this.points.xs[i], this.points.ys[i], 5.5, 0, Math.PI * 2);
        ctx.stroke();
      }
    }
  }

  drawBest(ctx, trials, xScale, yScale, colors, frame) {
    const view = this.view;
    const ordered = trials.slice().sort((a, b) => a.seq - b.seq);
    let bestValue = null;
    const steps = [];
    for (const trial of ordered) {
      const v = metricOf(trial, view.metricIndex);
      if (bestValue === null || (view.maximize ? v > bestValue : v < bestValue)) {
        bestValue = v;
        steps.push({ trial, value: v });
      }
    }
    ctx.strokeStyle = colors.accent;
    ctx.lineWidth = 2;
    ctx.beginPath();
    steps.forEach((step, i) => {
      const x = xScale.map(step.trial.seq);
      const y = yScale.map(step.value);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, yScale.map(steps[i - 1].value));
      ctx.lineTo(x, y);
    });
    ctx.lineTo(frame.right, yScale.map(bestValue));
    ctx.stroke();
    ctx.fillStyle = colors.accent;
    ctx.beginPath();
    for (const step of steps) {
      const x = xScale.map(step.trial.seq);
      const y = yScale.map(step.value);
      ctx.moveTo(x + 4, y);
      ctx.arc(x, y, 4, 0, Math.PI * 2);
    }
    ctx.fill();
  }

  tipFor(trial) {
    return tipLines(trial, this.view, [`${this.view.metricLabel}: ${num(metricOf(trial, this.view.metricIndex))}`]);
  }
}

function drawBrush(ctx, x, [y0, y1], colors) {
  ctx.fillStyle = 'rgba(37,87,214,0.18)';
  ctx.strokeStyle = colors.accent;
  ctx.lineWidth = 1;
  ctx.fillRect(x - 8, y0, 16, y1 - y0);
  ctx.strokeRect(x - 8 + 0.5, y0 + 0.5, 16, y1 - y0);
}

/** How a parameter's axis is laid out: numbers on a linear/log line, choices as categories. */
export function axisKind(name, index, trials, space) {
  const spec = space && space[name];
  const type = spec && spec._type;
  const values = [];
  let allNumbers = true;
  for (const trial of trials) {
    const v = trial.params[index];
    if (v === null || v === undefined) continue;
    values.push(v);
    if (typeof v !== 'number') allNumbers = false;
  }
  if (type === 'choice' || !allNumbers) {
    const categories = [];
    const seen = new Set();
    const add = (v) => {
      const key = String(v);
      if (!seen.has(key)) {
        seen.add(key);
        categories.push(v);
      }
    };
    if (type === 'choice' && Array.isArray(spec._value)) {
      for (const option of spec._value) add(option && typeof option === 'object' && '_name' in option ? option._name : option);
    }
    for (const v of values) add(v);
    return { kind: 'band', categories };
  }
  const log = typeof type === 'string' && type.includes('log') && values.every((v) => v > 0);
  return { kind: log ? 'log' : 'linear', range: extent(values, log) };
}

/** ``text`` in at most ``maxLines`` lines of ``width`` pixels: split at spaces, _ , / - or anywhere; … only if it still does not fit. */
function wrapLabel(ctx, text, width, maxLines) {
  if (ctx.measureText(text).width <= width) return [text];
  const lines = [];
  let rest = text;
  while (rest && lines.length < maxLines) {
    let cut = rest.length;
    while (cut > 1 && ctx.measureText(rest.slice(0, cut)).width > width) cut -= 1;
    if (cut < rest.length) {
      const soft = Math.max(...[' ', '_', '-', '/', '.', ','].map((c) => rest.lastIndexOf(c, cut - 1)));
      if (soft > cut / 2) cut = soft + 1;
    }
    lines.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut);
  }
  if (rest) {
    let last = lines[lines.length - 1];
    while (last.length > 1 && ctx.measureText(`${last}…`).width > width) last = last.slice(0, -1);
    lines[lines.length - 1] = `${last}…`;
  }
  return lines;
}

/** One polyline per trial across parameter axes and the metric; drag on an axis to filter. */
export class ParallelPlot extends BasePlot {
  constructor(container) {
    super(container, { height: 380, label: 'parallel coordinates of hyper-parameters' });
    this.brushes = new Map();
    this.drag = null;
    this.onBrush = null;
    this.axes = [];
    const canvas = this.panel.canvas;
    canvas.addEventListener('mousedown', (event) => this.startBrush(event));
    window.addEventListener('mouseup', this._up = (event) => this.endBrush(event));
  }

  onMove(event) {
    const rect = this.panel.canvas.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    if (this.drag) {
      this.drag.y1 = y;
      this.panel.scheduleOverlay();
      return;
    }
    const axis = this.axisAt(x);
    this.panel.canvas.classList.toggle('crosshair', Boolean(axis));
  }

  axisAt(x) {
    return this.axes.find((axis) => Math.abs(axis.x - x) < 14) || null;
  }

  startBrush(event) {
    const rect = this.panel.canvas.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    const axis = this.axisAt(x);
    if (!axis) return;
    event.preventDefault();
    this.drag = { axis: axis.name, y0: y, y1: y };
  }

  endBrush() {
    if (!this.drag) return;
    const { axis, y0, y1 } = this.drag;
    this.drag = null;
    if (Math.abs(y1 - y0) < 4) this.brushes.delete(axis);
    else this.brushes.set(axis, [Math.min(y0, y1), Math.max(y0, y1)]);
    this.panel.render();
    if (this.onBrush) this.onBrush(this.brushSummary());
  }

  clearBrushes() {
    this.brushes.clear();
    this.panel.render();
    if (this.onBrush) this.onBrush(this.brushSummary());
  }

  /** The brushes as value ranges, and a search-box query selecting the same trials. */
  brushSummary() {
    const terms = [];
    for (const [name, [p0, p1]] of this.brushes) {
      const axis = this.axes.find((a) => a.name === name);
      if (!axis) continue;
      if (axis.scale.kind === 'band') {
        const inside = axis.scale.domain.filter((c) => {
          const p = axis.scale.map(c);
          return p >= p0 && p <= p1;
        });
        if (inside.length === 1) terms.push(`${axis.key}=${inside[0]}`);
      } else {
        const a = axis.scale.invert(p1);
        const b = axis.scale.invert(p0);
        terms.push(`${axis.key}>=${num(Math.min(a, b), 4)}`, `${axis.key}<=${num(Math.max(a, b), 4)}`);
      }
    }
    return { count: this.brushes.size, inside: this.insideCount || 0, query: terms.join(' ') };
  }

  draw(ctx, width, height) {
    const colors = theme();
    const view = this.view;
    this.points = { xs: [], ys: [], items: [] };
    if (!view) return;
    const names = view.paramNames;
    if (!names.length || !view.trials.length) {
      emptyMessage(ctx, width, height, 'No trials yet', colors);
      return;
    }
    // the first axis's labels sit in the left margin: widen it for long category names (up to 180 px)
    const firstKind = axisKind(names[0], 0, view.trials, view.space);
    ctx.font = '10px system-ui, sans-serif';
    const longest = firstKind.kind === 'band'
      ? Math.max(0, ...firstKind.categories.map((c) => ctx.measureText(String(c)).width)) : 0;
    const left = Math.max(56, Math.min(180, Math.ceil(longest) + 14));
    const frame = frameOf(width, height, { left, right: 86, top: 40, bottom: 28 });
    const columns = names.map((name, index) => ({ name, key: name, index, metric: false }));
    columns.push({ name: view.metricLabel, key: view.metricKey === 'default' ? 'metric' : `metric:${view.metricKey}`,
      index: view.metricIndex, metric: true });
    const step = columns.length > 1 ? (frame.right - frame.left) / (columns.length - 1) : 0;
    const metricValues = view.trials.map((t) => metricOf(t, view.metricIndex));
    const metricRange = extent(metricValues);
    this.axes = columns.map((column, i) => {
      const x = frame.left + step * i;
      let scale;
      if (column.metric) {
        scale = makeScale('linear', metricRange ? padExtent(metricRange, 0.02) : [0, 1], [frame.bottom, frame.top]);
      } else {
        const kind = axisKind(column.name, column.index, view.trials, view.space);
        scale = kind.kind === 'band'
          ? makeScale('band', kind.categories, [frame.bottom, frame.top])
          : makeScale(kind.kind, kind.range || [0, 1], [frame.bottom, frame.top]);
      }
      return { ...column, x, scale };
    });
    const good = goodness(metricRange, view.maximize);
    const brushed = this.brushes.size > 0;
    const buckets = Array.from({ length: BUCKETS + 2 }, () => []);
    let inside = 0;
    // lines through a category fan out a little (a fixed offset per trial), so that the
    // categories show how many trials went through them instead of collapsing to one point
    const spread = this.axes.map((axis) => (axis.scale.kind === 'band' && axis.scale.domain.length > 1
      ? (Math.abs(frame.bottom - frame.top) / (axis.scale.domain.length - 1)) * 0.22 : 0));
    view.trials.forEach((trial, t) => {
      const ys = new Array(this.axes.length);
      let pass = true;
      const jitter = (((t * 2654435761) >>> 0) % 1000) / 1000 - 0.5;
      for (let a = 0; a < this.axes.length; a += 1) {
        const axis = this.axes[a];
        const raw = axis.metric ? metricOf(trial, axis.index) : trial.params[axis.index];
        const y = raw === null || raw === undefined ? NaN : axis.scale.map(raw) + jitter * spread[a];
        ys[a] = y;
        const brush = this.brushes.get(axis.name);
        if (brush && !(y >= brush[0] && y <= brush[1])) pass = false;
      }
      const metric = metricOf(trial, view.metricIndex);
      let bucket;
      if (brushed && !pass) bucket = BUCKETS + 1;
      else if (metric === null) bucket = BUCKETS;
      else bucket = Math.min(BUCKETS - 1, Math.floor(good(metric) * BUCKETS));
      if (pass) inside += 1;
      buckets[bucket].push(ys);
    });
    this.insideCount = inside;
    const many = view.trials.length > 1500;
    const paint = (lines, style, widthPx) => {
      if (!lines.length) return;
      ctx.strokeStyle = style;
      ctx.lineWidth = widthPx;
      ctx.beginPath();
      for (const ys of lines) {
        let pen = false;
        for (let a = 0; a < ys.length; a += 1) {
          const y = ys[a];
          if (!Number.isFinite(y)) {
            pen = false;
            continue;
          }
          if (pen) ctx.lineTo(this.axes[a].x, y);
          else ctx.moveTo(this.axes[a].x, y);
          pen = true;
        }
      }
      ctx.stroke();
    };
    paint(buckets[BUCKETS + 1], colors.grid, 1);
    paint(buckets[BUCKETS], `rgba(138,148,166,${many ? 0.15 : 0.4})`, 1);
    // many lines: width-1 hairlines, which software rasterizers draw several times faster
    for (let b = 0; b < BUCKETS; b += 1) paint(buckets[b], rampColor((b + 0.5) / BUCKETS, many ? 0.28 : 0.75), many ? 1 : 1.2);
    if (view.selected && view.selected.size) {
      const chosen = view.trials.filter((t) => view.selected.has(t.id));
      const lines = chosen.map((trial) => this.axes.map((axis) => {
        const raw = axis.metric ? metricOf(trial, axis.index) : trial.params[axis.index];
        return raw === null || raw === undefined ? NaN : axis.scale.map(raw);
      }));
      paint(lines, colors.fg, 2.5);
    }
    this.drawAxisFrames(ctx, colors, frame);
    // the colour bar says which end of the ramp is the better metric
    const barX = width - 40;
    ctx.fillStyle = rampGradient(ctx, 0, view.maximize ? frame.bottom : frame.top, 0,
      view.maximize ? frame.top : frame.bottom);
    ctx.fillRect(barX, frame.top, 10, frame.bottom - frame.top);
    ctx.fillStyle = colors.muted;
    ctx.font = '10px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.fillText('better', barX + 5, frame.top - 8);
  }

  drawAxisFrames(ctx, colors, frame) {
    ctx.save();
    this.axes.forEach((axis, a) => {
      // labels sit left of their axis: as wide as the gap to the previous axis allows, wrapped, not cut
      const gap = a ? axis.x - this.axes[a - 1].x : axis.x;
      const labelWidth = Math.max(40, Math.min(220, gap - 14));
      ctx.strokeStyle = colors.fg;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(Math.round(axis.x) + 0.5, frame.top);
      ctx.lineTo(Math.round(axis.x) + 0.5, frame.bottom);
      ctx.stroke();
      ctx.fillStyle = colors.fg;
      ctx.font = '600 11px system-ui, sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      const title = axis.name.length > 18 ? `${axis.name.slice(0, 17)}…` : axis.name;
      ctx.fillText(title, axis.x, frame.top - 14);
      ctx.font = '10px system-ui, sans-serif';
      ctx.textBaseline = 'middle';
      ctx.textAlign = 'right';
      const ticks = axis.scale.ticks(5);
      const every = Math.max(1, Math.ceil(ticks.length / 12));
      // category axes have room for two or three lines per label; numbers fit on one
      const band = axis.scale.kind === 'band' && axis.scale.domain.length > 1
        ? Math.abs(frame.bottom - frame.top) / (axis.scale.domain.length - 1) : 12;
      const maxLines = Math.max(1, Math.min(3, Math.floor(band / 12)));
      ticks.forEach((tick, i) => {
        if (i % every) return;
        const lines = wrapLabel(ctx, tick.label, labelWidth, maxLines);
        const w = Math.max(...lines.map((line) => ctx.measureText(line).width));
        const top = tick.pos - (lines.length * 12) / 2;
        ctx.fillStyle = colors.bg;
        ctx.globalAlpha = 0.8;
        ctx.fillRect(axis.x - w - 7, top, w + 4, lines.length * 12);
        ctx.globalAlpha = 1;
        ctx.fillStyle = colors.muted;
        lines.forEach((line, n) => ctx.fillText(line, axis.x - 4, top + 6 + n * 12));
        ctx.fillRect(axis.x - 2, tick.pos, 4, 1);
      });
      const brush = this.brushes.get(axis.name);
      if (brush) drawBrush(ctx, axis.x, brush, colors);
    });
    ctx.restore();
  }

  hasOverlay() {
    return Boolean(this.drag);
  }

  /** The brush being dragged, over the saved drawing. */
  overlay(ctx) {
    if (!this.drag) return;
    const axis = this.axes.find((a) => a.name === this.drag.axis);
    if (axis) drawBrush(ctx, axis.x, [Math.min(this.drag.y0, this.drag.y1), Math.max(this.drag.y0, this.drag.y1)], theme());
  }

  destroy() {
    window.removeEventListener('mouseup', this._up);
    super.destroy();
  }
}

/** Intermediate results of every trial, one line each, coloured by its final metric. */
export class IntermediatePlot extends BasePlot {
  constructor(container) {
    super(container, { height: 360, label: 'intermediate results' });
    this.series = null;
  }

  setSeries(series) {
    this.series = series;
  }

  draw(ctx, width, height) {
    const colors = theme();
    const view = this.view;
    this.points = { xs: [], ys: [], items: [] };
    if (!view || !this.series) {
      emptyMessage(ctx, width, height, 'Loading intermediate results…', colors);
      return;
    }
    const key = view.metricKey;
    const valueOf = (raw) => {
      if (typeof raw === 'number') return raw;
      if (raw && typeof raw === 'object') {
        const v = raw[key] ?? raw.default;
        return typeof v === 'number' ? v : null;
      }
      return null;
    };
    const lines = [];
    let maxStep = 0;
    const allY = [];
    const limit = view.topN || Infinity;
    let candidates = view.trials.filter((t) => this.series[t.id] && this.series[t.id].length);
    if (Number.isFinite(limit) && candidates.length > limit) {
      const withMetric = candidates.filter((t) => metricOf(t, view.metricIndex) !== null);
      withMetric.sort((a, b) => (view.maximize ? -1 : 1) * (metricOf(a, view.metricIndex) - metricOf(b, view.metricIndex)));
      const running = candidates.filter((t) => t.status === 'RUNNING');
      candidates = [...new Set([...running, ...withMetric.slice(0, limit)])];
    }
    for (const trial of candidates) {
      const raw = this.series[trial.id];
      const pts = [];
      for (let i = 0; i < raw.length; i += 1) {
        const v = valueOf(raw[i][1]);
        if (v === null || !Number.isFinite(v)) continue;
        pts.push(i, v);
        allY.push(v);
      }
      if (!pts.length) continue;
      maxStep = Math.max(maxStep, pts[pts.length - 2]);
      lines.push({ trial, pts });
    }
    if (!lines.length) {
      emptyMessage(ctx, width, height, 'No intermediate results reported', colors);
      return;
    }
    const frame = frameOf(width, height);
    const xScale = makeScale('linear', [0, Math.max(1, maxStep)], [frame.left, frame.right], { integer: true });
    const yScale = makeScale('linear', padExtent(extent(allY), 0.05), [frame.bottom, frame.top]);
    drawAxes(ctx, frame, xScale, yScale, { xLabel: 'report', yLabel: view.metricLabel, colors });
    const finals = extent(view.trials.map((t) => metricOf(t, view.metricIndex)));
    const good = goodness(finals, view.maximize);
    const buckets = Array.from({ length: BUCKETS + 2 }, () => []);
    for (const line of lines) {
      const metric = metricOf(line.trial, view.metricIndex);
      let bucket = metric === null ? BUCKETS : Math.min(BUCKETS - 1, Math.floor(good(metric) * BUCKETS));
      if (line.trial.status === 'RUNNING') bucket = BUCKETS + 1;
      const coords = [];
      for (let i = 0; i < line.pts.length; i += 2) {
        const x = xScale.map(line.pts[i]);
        const y = yScale.map(line.pts[i + 1]);
        coords.push(x, y);
        this.points.xs.push(x);
        this.points.ys.push(y);
        this.points.items.push(line.trial);
      }
      line.coords = coords;
      buckets[bucket].push(coords);
    }
    this.lines = lines;
    const many = lines.length > 800;
    const paint = (group, style, lineWidth) => {
      if (!group.length) return;
      ctx.strokeStyle = style;
      ctx.lineWidth = lineWidth;
      ctx.beginPath();
      for (const coords of group) {
        ctx.moveTo(coords[0], coords[1]);
        if (coords.length === 2) ctx.lineTo(coords[0] + 0.5, coords[1]);
        for (let i = 2; i < coords.length; i += 2) ctx.lineTo(coords[i], coords[i + 1]);
      }
      ctx.stroke();
    };
    if (view.palette) {
      // comparing a few trials: one distinct colour each, matching the legend the caller shows
      lines.forEach((line) => {
        const index = view.trials.indexOf(line.trial);
        paint([line.coords], PALETTE[index % PALETTE.length], 2);
      });
    } else {
      paint(buckets[BUCKETS], `rgba(138,148,166,${many ? 0.2 : 0.5})`, 1);
      for (let b = 0; b < BUCKETS; b += 1) paint(buckets[b], rampColor((b + 0.5) / BUCKETS, many ? 0.3 : 0.8), 1.3);
      paint(buckets[BUCKETS + 1], colors.status.RUNNING, 1.8);
    }
    const highlight = new Set(view.selected || []);
    const emphasised = lines.filter((l) => highlight.has(l.trial.id) || lines.length <= 20);
    paint(lines.filter((l) => highlight.has(l.trial.id)).map((l) => l.coords), colors.fg, 2.5);
    if (emphasised.length <= 20 && !view.palette) {
      // few lines: mark each report so single values are visible too
      ctx.fillStyle = colors.fg;
      ctx.beginPath();
      for (const line of emphasised) {
        for (let i = 0; i < line.coords.length; i += 2) {
          ctx.moveTo(line.coords[i] + 3, line.coords[i + 1]);
          ctx.arc(line.coords[i], line.coords[i + 1], 3, 0, Math.PI * 2);
        }
      }
      ctx.fill();
    }
  }

  /** The line under the mouse, drawn bold over the others. */
  overlay(ctx) {
    const trial = this.points.items[this.hover];
    const line = trial && this.lines ? this.lines.find((l) => l.trial === trial) : null;
    if (!line) return;
    ctx.strokeStyle = theme().fg;
    ctx.lineWidth = 2.5;
    ctx.beginPath();
    ctx.moveTo(line.coords[0], line.coords[1]);
    for (let i = 2; i < line.coords.length; i += 2) ctx.lineTo(line.coords[i], line.coords[i + 1]);
    ctx.stroke();
    super.overlay(ctx);
  }

  tipFor(trial, index) {
    const series = this.series[trial.id] || [];
    const lines = tipLines(trial, this.view, [`final: ${num(metricOf(trial, this.view.metricIndex))}`,
      `reports: ${series.length}`]);
    const y = this.points.ys[index];
    if (Number.isFinite(y)) lines.splice(2, 0, `this report: ${num(this.panelValue(index))}`);
    return lines;
  }

  panelValue(index) {
    const trial = this.points.items[index];
    let k = 0;
    for (let i = 0; i < index; i += 1) if (this.points.items[i] === trial) k += 1;
    const line = this.lines.find((l) => l.trial === trial);
    return line ? line.pts[k * 2 + 1] : null;
  }
}

/** How long each trial ran, coloured by status. */
export class DurationPlot extends BasePlot {
  constructor(container) {
    super(container, { height: 320, label: 'trial durations' });
  }

  draw(ctx, width, height) {
    const colors = theme();
    const view = this.view;
    this.points = { xs: [], ys: [], items: [] };
    if (!view) return;
    const now = Date.now();
    const rows = view.trials.filter((t) => t.start && t.seq !== null).map((t) => ({ trial: t, seconds: trialMillis(t, now) / 1000 }));
    if (!rows.length) {
      emptyMessage(ctx, width, height, 'No trial has started yet', colors);
      return;
    }
    const frame = frameOf(width, height);
    const xScale = makeScale('linear', padExtent(extent(rows.map((r) => r.trial.seq)), 0.01), [frame.left, frame.right],
      { integer: true });
    const top = extent(rows.map((r) => r.seconds))[1] || 1;
    const yScale = makeScale('linear', [0, top * 1.05], [frame.bottom, frame.top]);
    drawAxes(ctx, frame, xScale, yScale, { xLabel: 'trial number', yLabel: 'duration (s)', colors });
    const barWidth = Math.max(1, Math.min(14, ((frame.right - frame.left) / rows.length) * 0.7));
    const groups = new Map();
    for (const row of rows) {
      const x = xScale.map(row.trial.seq);
      const y = yScale.map(row.seconds);
      this.points.xs.push(x);
      this.points.ys.push(y);
      this.points.items.push(row.trial);
      if (!groups.has(row.trial.status)) groups.set(row.trial.status, []);
      groups.get(row.trial.status).push(x, y);
    }
    // bars read well up to a few hundred trials; beyond, they merge into a block and dots are clearer
    const dots = rows.length > 400;
    for (const [status, coords] of groups) {
      ctx.fillStyle = colors.status[status] || colors.muted;
      if (dots) {
        fillDots(ctx, coords, 1.8);
      } else {
        for (let i = 0; i < coords.length; i += 2) {
          ctx.fillRect(coords[i] - barWidth / 2, coords[i + 1], barWidth, frame.bottom - coords[i + 1]);
        }
      }
    }
  }

  onMove(event) {
    // bars are tall and thin: pick by x alone
    const rect = this.panel.canvas.getBoundingClientRect();
    const x = event.clientX - rect.left;
    const y = event.clientY - rect.top;
    let best = -1;
    let bestDx = 8;
    for (let i = 0; i < this.points.xs.length; i += 1) {
      const dx = Math.abs(this.points.xs[i] - x);
      if (dx < bestDx) {
        bestDx = dx;
        best = i;
      }
    }
    if (best !== this.hover) {
      this.hover = best;
      this.panel.scheduleOverlay();
    }
    this.panel.canvas.classList.toggle('pointer', best >= 0);
    if (best < 0) this.panel.hideTip();
    else this.panel.showTip(x, y, this.tipFor(this.points.items[best]));
  }

  tipFor(trial) {
    return tipLines(trial, this.view, [`duration: ${duration(trialMillis(trial) / 1000)}`]);
  }
}

/**
 * Indexes (ascending) of the points no other point dominates, by the rule of the manager's
 * `GET /pareto-front` (nni.common.objectives): a point dominates another when it is no worse in
 * every objective and strictly better in one, so equal points are all kept.
 *
 * `points` are arrays of finite numbers, one per objective; `maximize` says for each objective
 * whether higher is better. Sorting first means a point only needs checking against the front
 * found so far: whatever dominates it sorts before it, and so does a front member dominating it.
 */
export function paretoFront(points, maximize) {
  const losses = points.map((p) => p.map((v, k) => (maximize[k] ? -v : v)));
  const order = losses.map((_, i) => i).sort((a, b) => {
    for (let k = 0; k < maximize.length; k += 1) {
      if (losses[a][k] !== losses[b][k]) return losses[a][k] - losses[b][k];
    }
    return a - b;
  });
  const dominates = (a, b) => {
    let better = false;
    for (let k = 0; k < a.length; k += 1) {
      if (a[k] > b[k]) return false;
      if (a[k] < b[k]) better = true;
    }
    return better;
  };
  const front = [];
  for (const i of order) {
    if (!front.some((j) => dominates(losses[j], losses[i]))) front.push(i);
  }
  return front.sort((a, b) => a - b);
}

/** Trials the Pareto front may hold: succeeded ones, as the manager counts them. */
function frontCandidate(trial) {
  return trial.status === 'SUCCEEDED';
}

/**
 * Two metric keys against each other, with the Pareto front of that pair highlighted; with
 * `view.pareto.experiment` (the declared objectives, when they are not just this pair) the
 * experiment's own front over all of them is ringed too.
 */
export class ParetoPlot extends BasePlot {
  constructor(container) {
    super(container, { height: 380, label: 'Pareto front' });
    this.front = [];
    this.experimentFront = null;
  }

  draw(ctx, width, height) {
    const colors = theme();
    const view = this.view;
    this.points = { xs: [], ys: [], items: [] };
    this.front = [];
    this.experimentFront = null;
    if (!view || !view.pareto) return;
    const { xIndex, yIndex, maxX, maxY, xKey, yKey, experiment } = view.pareto;
    const data = [];
    for (const trial of view.trials) {
      const x = metricOf(trial, xIndex);
      const y = metricOf(trial, yIndex);
      if (x !== null && y !== null) data.push({ x, y, trial });
    }
    if (experiment) {
      // the experiment's front is over every declared objective, from every trial (also those
      // this pair of axes cannot place)
      const members = [];
      const vectors = [];
      for (const trial of view.trials) {
        if (!frontCandidate(trial)) continue;
        const vector = experiment.map((o) => metricOf(trial, o.index));
        if (vector.every((v) => v !== null)) {
          members.push(trial);
          vectors.push(vector);
        }
      }
      this.experimentFront = paretoFront(vectors, experiment.map((o) => o.maximize)).map((i) => members[i]);
    }
    if (!data.length) {
      emptyMessage(ctx, width, height, 'No trial reported both metrics', colors);
      return;
    }
    const frame = frameOf(width, height);
    const xScale = makeScale('linear', padExtent(extent(data.map((d) => d.x)), 0.05), [frame.left, frame.right]);
    const yScale = makeScale('linear', padExtent(extent(data.map((d) => d.y)), 0.05), [frame.bottom, frame.top]);
    drawAxes(ctx, frame, xScale, yScale, { xLabel: `${xKey} (${maxX ? 'max' : 'min'})`,
      yLabel: `${yKey} (${maxY ? 'max' : 'min'})`, colors });
    const candidates = data.map((d, i) => i).filter((i) => frontCandidate(data[i].trial));
    const frontIdx = paretoFront(candidates.map((i) => [data[i].x, data[i].y]), [maxX, maxY]).map((k) => candidates[k]);
    const onFront = new Set(frontIdx);
    ctx.fillStyle = colors.muted;
    ctx.globalAlpha = 0.45;
    const dominated = [];
    data.forEach((d, i) => {
      const x = xScale.map(d.x);
      const y = yScale.map(d.y);
      this.points.xs.push(x);
      this.points.ys.push(y);
      this.points.items.push(d.trial);
      if (!onFront.has(i)) dominated.push(x, y);
    });
    fillDots(ctx, dominated, 2.5);
    ctx.globalAlpha = 1;
    const sorted = frontIdx.slice().sort((a, b) => data[a].x - data[b].x);
    ctx.strokeStyle = colors.accent;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    sorted.forEach((i, k) => {
      const x = xScale.map(data[i].x);
      const y = yScale.map(data[i].y);
      if (k === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
    ctx.fillStyle = colors.accent;
    ctx.beginPath();
    for (const i of frontIdx) {
      const x = xScale.map(data[i].x);
      const y = yScale.map(data[i].y);
      ctx.moveTo(x + 4.5, y);
      ctx.arc(x, y, 4.5, 0, Math.PI * 2);
    }
    ctx.fill();
    if (this.experimentFront) {
      // the experiment's front members: a ring, so the 2-D front's dots stay readable under it
      const ringed = new Set(this.experimentFront);
      ctx.strokeStyle = colors.fg;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      data.forEach((d) => {
        if (!ringed.has(d.trial)) return;
        const x = xScale.map(d.x);
        const y = yScale.map(d.y);
        ctx.moveTo(x + 7, y);
        ctx.arc(x, y, 7, 0, Math.PI * 2);
      });
      ctx.stroke();
    }
    this.front = frontIdx.map((i) => data[i].trial);
  }

  tipFor(trial) {
    const { xIndex, yIndex, xKey, yKey } = this.view.pareto;
    const lines = [`${xKey}: ${num(metricOf(trial, xIndex))}`, `${yKey}: ${num(metricOf(trial, yIndex))}`];
    if (this.experimentFront && this.experimentFront.includes(trial)) lines.push("on the experiment's Pareto front");
    return tipLines(trial, this.view, lines);
  }
}

/** A small legend of status colours. */
export function statusLegend(statuses) {
  const colors = theme();
  return h('div.legend', statuses.map((status) => {
    const swatch = h('span.swatch');
    swatch.style.background = colors.status[status] || colors.muted;
    return h('span.legend-item', swatch, statusLabel(status));
  }));
}
