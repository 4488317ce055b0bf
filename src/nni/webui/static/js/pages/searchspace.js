// Search space: what is searched, how the trials so far spread over it, and a live editor.

import { getJson, send } from '../api.js';
import { h, setChildren, setText, toast } from '../dom.js';
import { num, value as fmtValue } from '../format.js';
import { live } from '../live.js';
import { CanvasPanel, extent, theme } from '../components/chart.js';

const TYPES = new Set(['choice', 'randint', 'uniform', 'quniform', 'loguniform', 'qloguniform', 'normal', 'qnormal',
  'lognormal', 'qlognormal']);

function describe(spec) {
  if (!spec || typeof spec !== 'object') return fmtValue(spec);
  const values = spec._value;
  if (!Array.isArray(values)) return fmtValue(values);
  if (spec._type === 'choice') {
    return values.map((v) => (v && typeof v === 'object' && '_name' in v ? `${v._name} {…}` : fmtValue(v))).join(', ');
  }
  if (['normal', 'qnormal', 'lognormal', 'qlognormal'].includes(spec._type)) {
    return `μ=${num(values[0])}, σ=${num(values[1])}${values[2] !== undefined ? `, q=${num(values[2])}` : ''}`;
  }
  return `[${num(values[0])}, ${num(values[1])}]${values[2] !== undefined ? `, q=${num(values[2])}` : ''}`;
}

/** Quick checks before the server's full validation, so typos are caught as you type. */
export function checkSpace(text) {
  let space;
  try {
    space = JSON.parse(text);
  } catch (error) {
    return { error: `not valid JSON: ${error.message}` };
  }
  if (!space || typeof space !== 'object' || Array.isArray(space)) return { error: 'the search space must be a JSON object' };
  for (const [name, spec] of Object.entries(space)) {
    if (!spec || typeof spec !== 'object' || !('_type' in spec) || !('_value' in spec)) {
      return { error: `"${name}" needs "_type" and "_value"` };
    }
    if (!TYPES.has(spec._type)) return { error: `"${name}": unknown _type "${spec._type}"` };
    if (!Array.isArray(spec._value)) return { error: `"${name}": _value must be a list` };
  }
  return { space };
}

/** A small histogram (numbers) or bar count (choices) of the values trials used. */
function distribution(host, name, index, digest, spec) {
  const values = digest.trials.map((t) => t.params[index]).filter((v) => v !== null && v !== undefined);
  const panel = new CanvasPanel(host, {
    height: 64, label: `values of ${name}`,
    draw: (ctx, width, height) => {
      const colors = theme();
      if (!values.length) return;
      let bins;
      let labels;
      if (spec && spec._type === 'choice' || values.some((v) => typeof v !== 'number')) {
        const counts = new Map();
        // bars in the order the search space lists the choices, then anything else seen
        if (spec && Array.isArray(spec._value)) {
          for (const option of spec._value) {
            counts.set(String(option && typeof option === 'object' && '_name' in option ? option._name : option), 0);
          }
        }
        for (const v of values) counts.set(String(v), (counts.get(String(v)) || 0) + 1);
        labels = [...counts.keys()];
        bins = [...counts.values()];
      } else {
        const log = spec && String(spec._type).includes('log') && values.every((v) => v > 0);
        const xs = log ? values.map((v) => Math.log10(v)) : values;
        const [lo, hi] = extent(xs);
        const n = 24;
        bins = new Array(n).fill(0);
        for (const x of xs) bins[Math.min(n - 1, Math.floor(((x - lo) / (hi - lo || 1)) * n))] += 1;
        labels = null;
      }
      const top = Math.max(...bins);
      const w = width / bins.length;
      ctx.fillStyle = colors.accent;
      bins.forEach((count, i) => {
        const bh = (count / top) * (height - (labels ? 16 : 4));
        ctx.fillRect(i * w + 1, height - (labels ? 14 : 0) - bh, Math.max(1, w - 2), bh);
      });
      if (labels) {
        ctx.fillStyle = colors.muted;
        ctx.font = '10px system-ui, sans-serif';
        ctx.textAlign = 'center';
        labels.forEach((label, i) => ctx.fillText(label.length > 10 ? `${label.slice(0, 9)}…` : label, i * w + w / 2, height - 3));
      }
    },
  });
  panel.render();
  return panel;
}

export function mount(container) {
  let state = live.state;
  let panels = [];
  const tableBody = h('tbody');
  const editor = h('textarea.code.editor', { rows: 18, spellcheck: 'false', 'aria-label': 'search space JSON' });
  const problem = h('div.error-text', { role: 'alert' });
  const applyButton = h('button.btn.primary', { type: 'button', dataset: { action: 'apply-space' } }, 'Apply');
  const resetButton = h('button.btn', { type: 'button' }, 'Reset');
  const formatButton = h('button.btn.ghost', { type: 'button' }, 'Format');
  const lockNote = h('p.muted.small');
  let dirty = false;

  container.append(
    h('section.card', h('div.card-head', h('h2', 'Search space'), h('span.muted.small', 'distribution of the values trials used')),
      h('table.simple.space', h('thead', h('tr', h('th', 'Parameter'), h('th', 'Type'), h('th', 'Values'), h('th.dist-col', 'Tried'))),
        tableBody)),
    h('section.card', h('div.card-head', h('h2', 'Edit'), h('span.muted.small', 'the tuner receives the new space at once')),
      lockNote, editor, problem, h('div.actions.left', applyButton, resetButton, formatButton)));

  const space = () => state.profile.params.searchSpace || {};

  function renderTable() {
    for (const panel of panels) panel.destroy();
    panels = [];
    const digest = live.digest;
    const names = digest ? digest.paramNames : [];
    setChildren(tableBody, Object.entries(space()).map(([name, spec]) => {
      const dist = h('td.dist');
      const index = names.indexOf(name);
      if (digest && index >= 0) panels.push(distribution(dist, name, index, digest, spec));
      return h('tr', h('th.mono', name), h('td', spec && spec._type), h('td.values', describe(spec)), dist);
    }));
  }

  function resetEditor() {
    editor.value = JSON.stringify(space(), null, 2);
    dirty = false;
    setText(problem, '');
  }

  function renderLock() {
    const locked = state.readOnly || ['STOPPED', 'STOPPING', 'ERROR'].includes(state.status);
    applyButton.disabled = locked;
    editor.readOnly = locked;
    setText(lockNote, locked ? `The experiment is ${state.status}: the search space can only be changed while it runs.` : '');
  }

  editor.addEventListener('input', () => {
    dirty = true;
    const result = checkSpace(editor.value);
    setText(problem, result.error || '');
  });
  resetButton.addEventListener('click', resetEditor);
  formatButton.addEventListener('click', () => {
    const result = checkSpace(editor.value);
    if (result.space) editor.value = JSON.stringify(result.space, null, 2);
  });
  applyButton.addEventListener('click', async () => {
    const result = checkSpace(editor.value);
    if (result.error) {
      setText(problem, result.error);
      return;
    }
    applyButton.disabled = true;
    try {
      const profile = await getJson('experiment');
      profile.params.searchSpace = result.space;
      await send('PUT', 'experiment', { query: { update_type: 'SEARCH_SPACE' }, body: profile });
      toast('Search space updated');
      dirty = false;
      await live.refresh();
    } catch (error) {
      setText(problem, error.message);
    } finally {
      renderLock();
    }
  });

  renderTable();
  resetEditor();
  renderLock();
  const release = live.wantDigest();
  const offs = [
    live.on('state', ({ state: next, previous }) => {
      state = next;
      renderLock();
      if (JSON.stringify(previous && previous.profile.params.searchSpace) !== JSON.stringify(next.profile.params.searchSpace)) {
        renderTable();
        if (!dirty) resetEditor();
      }
    }),
    live.on('trials', renderTable),
  ];
  return {
    destroy() {
      release();
      for (const off of offs) off();
      for (const panel of panels) panel.destroy();
    },
  };
}
