// Trial detail: parameters, final metric, timing, the intermediate curve, and its output files.

import { apiUrl, getJson, getText, send } from '../api.js';
import { promptDialog } from '../dialog.js';
import { h, setChildren, setText, toast } from '../dom.js';
import {
  ACTIVE_TRIAL, bytes, duration, num, statusClass, statusLabel, time, trialMillis, value as fmtValue,
} from '../format.js';
import { live } from '../live.js';
import { IntermediatePlot } from '../components/plots.js';
import { copyParameters, killTrial, metricDirection } from './trials.js';

const STANDARD_FILES = [['stdout', 'trial.stdout'], ['stderr', 'trial.stderr'], ['trial.log', 'trial.log']];
const MAX_SHOWN = 512 * 1024;

export function mount(container, args) {
  const id = args[0] || '';
  let trial = null;
  let marker = null;
  let activeFile = null; // chosen on the first listing: the first standard file with content
  let plot = null;

  const title = h('h1', 'Trial ', h('span.mono', id));
  const statusPill = h('span.pill');
  const killButton = h('button.btn.danger', { type: 'button', hidden: true, dataset: { action: 'kill' },
    onclick: async () => {
      if (await killTrial(id)) load(true);
    } }, 'Kill');
  const copyButton = h('button.btn', { type: 'button', onclick: () => trial && copyParameters(trial) }, 'Copy parameters');
  const rerunButton = h('button.btn', { type: 'button', onclick: () => rerun() }, 'Run again with…');
  const head = h('div.page-head', h('a.back', { href: '#/trials' }, '← Trials'), title, statusPill, h('div.spacer'),
    copyButton, rerunButton, killButton);

  const paramsTable = h('tbody');
  const metricsTable = h('tbody');
  const timing = h('dl.info');
  const message = h('div');
  const chartHost = h('div');
  const chartOptions = h('div.chart-options');
  const fileTabs = h('div.tabs', { role: 'tablist' });
  const fileBody = h('pre.log', { tabindex: '0' });
  const fileNote = h('div.muted.small');
  const otherFiles = h('ul.files');

  container.append(head,
    h('section.grid.three',
      h('div.card', h('h2', 'Parameters'), h('table.kv', paramsTable)),
      h('div.card', h('h2', 'Final result'), h('table.kv', metricsTable)),
      h('div.card', h('h2', 'Timing'), timing, message)),
    h('section.card', h('div.card-head', h('h2', 'Intermediate results'), chartOptions), chartHost),
    h('section.card', h('div.card-head', h('h2', 'Output')), fileTabs, fileNote, fileBody,
      h('h3', 'Files in the trial folder'), otherFiles));

  function renderHead() {
    statusPill.className = `pill ${statusClass(trial.status)}`;
    setText(statusPill, statusLabel(trial.status));
    setChildren(title, 'Trial ', h('span.mono', trial.trialJobId), h('span.muted', ` #${trial.sequenceId ?? '?'}`));
    const state = live.state;
    killButton.hidden = !ACTIVE_TRIAL.has(trial.status) || (state && state.readOnly);
    rerunButton.disabled = !state || state.readOnly || ['STOPPED', 'STOPPING'].includes(state.status);
  }

  function renderTables() {
    const entries = Object.entries(trial.params || {});
    setChildren(paramsTable, entries.length ? entries.map(([k, v]) => h('tr', h('th', k), h('td.mono', fmtValue(v))))
      : h('tr', h('td.muted', 'none')));
    const metric = trial.metric;
    setChildren(metricsTable, metric ? Object.entries(metric).map(([k, v]) => h('tr', h('th', k === 'default' ? 'metric' : k),
      h('td.mono.metric', num(v)))) : h('tr', h('td.muted', trial.status === 'SUCCEEDED' ? 'no final metric reported' : 'none yet')));
  }

  function renderTiming() {
    const ms = trialMillis({ start: trial.startTime, end: trial.endTime, status: trial.status });
    const rows = [
      ['Submitted', time(trial.submitTime)],
      ['Started', time(trial.startTime)],
      ['Ended', time(trial.endTime)],
      ['Duration', ms === null ? '' : duration(ms / 1000)],
      // remote platform: the machine that ran the trial (REST field "machine")
      ...(trial.machine ? [['Machine', trial.machine]] : []),
      ['Folder', trial.logPath || ''],
    ];
    setChildren(timing, rows.map(([k, v]) => [h('dt', k), h('dd', { class: k === 'Folder' ? 'mono small' : '' }, v)]));
    setChildren(message, trial.message ? h('p.note', trial.message) : null);
  }

  async function renderCurve() {
    const result = await getJson('portal/intermediates', { trials: id }, { conditional: true });
    const digest = live.digest;
    const keys = digest ? digest.metricKeys : ['default'];
    const series = result.data.trials;
    const points = series[id] || [];
    const dictKeys = [...new Set(points.flatMap((p) => (p[1] && typeof p[1] === 'object' ? Object.keys(p[1]) : [])))];
    const chosen = chartOptions.querySelector('select');
    const key = chosen ? chosen.value : (dictKeys.includes('default') ? 'default' : dictKeys[0] || 'default');
    if (dictKeys.length > 1 && !chosen) {
      const select = h('select', { 'aria-label': 'intermediate key', onchange: () => renderCurve() },
        dictKeys.map((k) => h('option', { value: k }, k)));
      select.value = key;
      setChildren(chartOptions, h('label.opt', 'key ', select));
    }
    if (!plot) plot = new IntermediatePlot(chartHost);
    plot.setSeries(series);
    const row = { id, seq: trial.sequenceId, status: trial.status, params: [],
      metric: trial.metric ? [trial.metric[key] ?? trial.metric.default ?? null] : null };
    plot.update({ trials: [row], paramNames: [], metricKeys: keys, metricIndex: 0, metricKey: key,
      metricLabel: key === 'default' ? 'metric' : key, maximize: metricDirection(key, live.state),
      selected: new Set([id]), topN: 0 });
  }

  let files = [];
  async function renderFiles() {
    try {
      const listing = await getJson(`portal/trial-files/${encodeURIComponent(id)}`);
      files = listing.files;
    } catch {
      files = [];
    }
    const present = new Set(files.map((f) => f.name));
    if (activeFile === null) {
      const sizes = new Map(files.map((f) => [f.name, f.size]));
      const first = STANDARD_FILES.find(([, file]) => sizes.get(file) > 0) || STANDARD_FILES[0];
      activeFile = first[0];
    }
    setChildren(fileTabs, STANDARD_FILES.map(([name, file]) => h('button.tab', {
      type: 'button', role: 'tab', class: name === activeFile ? 'on' : '', 'aria-selected': String(name === activeFile),
      dataset: { file: name }, disabled: !present.has(file),
      onclick: () => {
        activeFile = name;
        renderFiles();
      },
    }, name)), h('a.btn.tiny.ghost', { href: apiUrl(`trial-file/${encodeURIComponent(id)}/${activeFile}`), target: '_blank',
      rel: 'noopener' }, 'open raw'));
    const others = files.filter((f) => !STANDARD_FILES.some(([, file]) => file === f.name));
    setChildren(otherFiles, others.length ? others.map((f) => h('li',
      h('a', { href: apiUrl(`trial-file/${encodeURIComponent(id)}/${encodeURIComponent(f.name)}`), download: f.name }, f.name),
      h('span.muted.small', ` ${bytes(f.size)} · ${time(f.modified)}`)))
      : h('li.muted', 'no other files'));
    await renderFileBody(present);
  }

  async function renderFileBody(present) {
    if (!activeFile) return;
    const file = STANDARD_FILES.find(([name]) => name === activeFile)[1];
    if (!present.has(file)) {
      setText(fileBody, '');
      setText(fileNote, `${file} does not exist (yet).`);
      return;
    }
    try {
      let text = await getText(`trial-file/${encodeURIComponent(id)}/${activeFile}`);
      let note = '';
      if (text.length > MAX_SHOWN) {
        note = `showing the last ${bytes(MAX_SHOWN)} of ${bytes(text.length)}; open raw for all of it`;
        text = text.slice(-MAX_SHOWN);
      }
      const atBottom = fileBody.scrollTop + fileBody.clientHeight >= fileBody.scrollHeight - 4;
      // textContent: trial output is shown as text, never interpreted as markup
      setText(fileBody, text);
      setText(fileNote, note);
      if (atBottom) fileBody.scrollTop = fileBody.scrollHeight;
    } catch (error) {
      setText(fileBody, '');
      setText(fileNote, error.message);
    }
  }

  async function rerun() {
    const text = await promptDialog('Run a trial with these parameters',
      'Edit the parameters (JSON). The new trial is queued as a customized trial.',
      { initial: JSON.stringify(trial.parameters ?? {}, null, 2), multiline: true, confirmLabel: 'Submit trial',
        validate: (value) => {
          try {
            const parsed = JSON.parse(value);
            return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? '' : 'parameters must be a JSON object';
          } catch (error) {
            return `not valid JSON: ${error.message}`;
          }
        } });
    if (text === null) return;
    try {
      const parsed = JSON.parse(text);
      delete parsed.tag;
      const answer = await send('POST', 'trial-jobs', { body: parsed });
      toast(`Customized trial queued as #${answer.sequenceId}`);
      live.refresh();
    } catch (error) {
      toast(`Cannot add the trial: ${error.message}`, 'error', 8000);
    }
  }

  async function load(force = false) {
    const state = live.state;
    if (!force && state && marker === state.trialMarker) {
      if (trial && trial.status === 'RUNNING') renderTiming();
      return;
    }
    marker = state ? state.trialMarker : null;
    let page;
    try {
      page = await getJson('trial-jobs', { ids: id, limit: 1 });
    } catch (error) {
      setChildren(container, h('div.empty', h('h2', 'Cannot load the trial'), h('p', error.message)));
      return;
    }
    if (!page.trials.length) {
      setChildren(container, h('div.empty', h('h2', `No trial ${id}`), h('p', h('a', { href: '#/trials' }, 'Back to the trials'))));
      return;
    }
    trial = page.trials[0];
    renderHead();
    renderTables();
    renderTiming();
    await Promise.all([renderCurve(), renderFiles()]);
    performance.mark('nni:trial-rendered');
  }

  load(true);
  let lastTail = 0;
  const offs = [
    live.on('state', () => load()),
    live.on('tick', () => {
      if (!trial || trial.status !== 'RUNNING') return;
      renderTiming();
      // a running trial prints without reporting metrics, which moves no marker: follow its output
      if (Date.now() - lastTail > 3000 && live.interval > 0 && !document.hidden) {
        lastTail = Date.now();
        renderFileBody(new Set(files.map((f) => f.name)));
      }
    }),
  ];
  return {
    destroy() {
      for (const off of offs) off();
      if (plot) plot.destroy();
    },
  };
}
