// Overview: status, progress against the limits, the best trial, editable limits, config, logs.

import { getJson, rootUrl, send } from '../api.js';
import { confirmDialog } from '../dialog.js';
import { download, h, setChildren, setText, toast } from '../dom.js';
import {
  duration, FINAL_EXPERIMENT, num, parseDuration, statusClass, statusLabel, TERMINAL, time, value as fmtValue,
} from '../format.js';
import { live } from '../live.js';
import { MetricPlot } from '../components/plots.js';
import { metricDirection } from './trials.js';

const DONE_ORDER = ['SUCCEEDED', 'FAILED', 'USER_CANCELED', 'EARLY_STOPPED', 'SYS_CANCELED'];

function stat(label, valueNode, extra) {
  return h('div.stat', h('div.stat-label', label), valueNode, extra || null);
}

/** A limit shown as text with an Edit button that turns it into an input. */
function editableLimit({ label, field, updateType, read, format, parse, hint }) {
  const shown = h('span.stat-value');
  const input = h('input.limit-input', { type: 'text', 'aria-label': label, hidden: true });
  const error = h('div.error-text.small', { role: 'alert' });
  const edit = h('button.btn.tiny', { type: 'button', dataset: { edit: field } }, 'Edit');
  const save = h('button.btn.tiny.primary', { type: 'button', hidden: true, dataset: { save: field } }, 'Save');
  const cancel = h('button.btn.tiny.ghost', { type: 'button', hidden: true }, 'Cancel');
  let editing = false;
  const setEditing = (on) => {
    editing = on;
    input.hidden = !on;
    shown.hidden = on;
    edit.hidden = on;
    save.hidden = !on;
    cancel.hidden = !on;
    setText(error, '');
    if (on) {
      input.value = read() ?? '';
      input.focus();
      input.select();
    }
  };
  const commit = async () => {
    const parsed = parse(input.value);
    if (parsed.error) {
      setText(error, parsed.error);
      return;
    }
    save.disabled = true;
    try {
      // the manager reads params.<field> from a whole profile, as NNI's portal sends it
      const profile = await getJson('experiment');
      profile.params[field] = parsed.value;
      await send('PUT', 'experiment', { query: { update_type: updateType }, body: profile });
      toast(`${label} set to ${input.value.trim()}`);
      setEditing(false);
      live.refresh();
    } catch (err) {
      setText(error, err.message);
    } finally {
      save.disabled = false;
    }
  };
  edit.addEventListener('click', () => setEditing(true));
  cancel.addEventListener('click', () => setEditing(false));
  save.addEventListener('click', commit);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') commit();
    if (event.key === 'Escape') setEditing(false);
  });
  const node = h('div.stat.editable', { dataset: { field } }, h('div.stat-label', label),
    h('div.edit-row', shown, input, edit, save, cancel), hint ? h('div.muted.small', hint) : null, error);
  return {
    node,
    update(state) {
      if (!editing) setText(shown, format(read()));
      const locked = state.readOnly || ['STOPPED', 'STOPPING', 'ERROR'].includes(state.status) || !live.reachable;
      edit.disabled = locked;
      edit.title = locked ? 'the experiment cannot be changed in this state' : `change ${label.toLowerCase()}`;
    },
  };
}

const positiveInt = (text) => {
  const value = Number(String(text).trim());
  if (!Number.isInteger(value) || value <= 0) return { error: 'give a positive whole number' };
  return { value };
};

export function mount(container) {
  let state = live.state;
  const params = () => state.profile.params;

  // ------------------------------------------------------------------ cards
  const statusValue = h('span.pill.big');
  const statusDetail = h('div.muted.small');
  const errors = h('div.errors');
  const elapsed = h('span.stat-value');
  const durationBar = h('div.bar', h('div.bar-fill'));
  const trialsValue = h('span.stat-value');
  const trialsBar = h('div.bar.stacked');
  const trialsBreakdown = h('div.breakdown.small');
  const bestValue = h('span.stat-value.metric');
  const bestTrial = h('div.small');

  const concurrency = editableLimit({
    label: 'Concurrency', field: 'trialConcurrency', updateType: 'TRIAL_CONCURRENCY',
    read: () => params().trialConcurrency, format: (v) => String(v ?? 1), parse: positiveInt,
  });
  const maxTrials = editableLimit({
    label: 'Max trials', field: 'maxTrialNumber', updateType: 'MAX_TRIAL_NUM',
    read: () => params().maxTrialNumber, format: (v) => (v ? String(v) : 'unlimited'), parse: positiveInt,
  });
  const maxDuration = editableLimit({
    label: 'Max duration', field: 'maxExperimentDuration', updateType: 'MAX_EXEC_DURATION',
    read: () => params().maxExperimentDuration, format: (v) => (v ? String(v) : 'unlimited'),
    hint: 'e.g. 30m, 2h, 1d',
    parse: (text) => {
      const trimmed = String(text).trim();
      const seconds = parseDuration(trimmed);
      if (seconds === null || seconds <= 0) return { error: 'give a duration such as 90s, 30m, 2h or 1d' };
      return { value: /^\d+(\.\d+)?$/.test(trimmed) ? `${trimmed}s` : trimmed };
    },
  });
  const limits = [concurrency, maxTrials, maxDuration];

  const stopButton = h('button.btn.danger', { type: 'button', dataset: { action: 'stop' }, onclick: async () => {
    const ok = await confirmDialog('Stop experiment',
      'Stop the experiment now? Running trials are killed, the tuner stops and this manager exits. '
      + 'You can resume or view it later with nnictl.', { confirmLabel: 'Stop experiment', danger: true });
    if (!ok) return;
    try {
      await send('DELETE', 'experiment');
      toast('The experiment is stopping');
      live.refresh();
    } catch (error) {
      toast(`Cannot stop: ${error.message}`, 'error', 8000);
    }
  } }, 'Stop experiment');

  const topRow = h('section.grid.stats',
    h('div.card', stat('Status', statusValue, statusDetail), errors),
    h('div.card', stat('Elapsed', elapsed), durationBar),
    h('div.card', stat('Trials', trialsValue), trialsBar, trialsBreakdown),
    h('div.card', stat('Best metric', bestValue, bestTrial)));

  const controls = h('section.card.controls', h('div.card-head', h('h2', 'Limits'), stopButton),
    h('div.grid.limits', limits.map((l) => l.node)));

  const chartHost = h('div');
  const topTable = h('tbody');
  const chartCard = h('section.card', h('div.card-head', h('h2', 'Best metric so far'),
    h('a.small', { href: '#/trials' }, 'all charts →')), chartHost);
  const topCard = h('section.card', h('div.card-head', h('h2', 'Top trials'), h('a.small', { href: '#/trials' }, 'all trials →')),
    h('table.simple', h('thead', h('tr', h('th', '#'), h('th', 'Trial'), h('th.right', 'Metric'), h('th', 'Parameters'))), topTable));

  const configPre = h('pre.code.config');
  const info = h('dl.info');
  const logLinks = h('div.links',
    h('a', { href: rootUrl('logs/nnimanager.log'), target: '_blank', rel: 'noopener' }, 'nnimanager.log'),
    h('a', { href: rootUrl('logs/dispatcher.log'), target: '_blank', rel: 'noopener' }, 'dispatcher.log'),
    h('button.btn.tiny', { type: 'button', onclick: () => exportResults('json') }, 'Export JSON'),
    h('button.btn.tiny', { type: 'button', onclick: () => exportResults('csv') }, 'Export CSV'));
  const detailsCard = h('section.card', h('h2', 'Experiment'), info, logLinks,
    h('details.config-details', h('summary', 'Configuration'), configPre));

  // shown while trials fail and none has succeeded: the reason, not only a green DONE
  const failureBanner = h('section.card.failure-banner', { role: 'alert', hidden: true, dataset: { banner: 'failures' } });
  container.append(failureBanner, topRow, controls, h('section.grid.two', chartCard, topCard), detailsCard);

  // ------------------------------------------------------------------ rendering
  function renderStatus() {
    const counts = state.counts || {};
    // a DONE run whose every trial failed is not shown as a green success
    const allFailed = counts.FAILED > 0 && !counts.SUCCEEDED && FINAL_EXPERIMENT.has(state.status);
    statusValue.className = `pill big ${statusClass(allFailed ? 'FAILED' : state.status)}`;
    statusValue.title = allFailed ? 'every finished trial failed' : '';
    setText(statusValue, state.status);
    const started = state.profile.startTime ? `started ${time(state.profile.startTime)}` : '';
    const ended = state.profile.endTime ? ` · ended ${time(state.profile.endTime)}` : '';
    setText(statusDetail, started + ended);
    setChildren(errors, state.errors.map((e) => h('pre.error-block', e)));
    stopButton.hidden = FINAL_EXPERIMENT.has(state.status) && state.status !== 'DONE';
    stopButton.disabled = !live.reachable || state.status === 'STOPPING';
  }

  function renderFailures() {
    const counts = state.counts || {};
    const failed = counts.FAILED || 0;
    const first = state.firstFailure;
    failureBanner.hidden = !(failed > 0 && !counts.SUCCEEDED);
    if (failureBanner.hidden) return;
    const finished = FINAL_EXPERIMENT.has(state.status);
    const headline = finished
      ? `No trial succeeded: ${failed} of ${state.total} trials failed.`
      : `${failed} trial${failed === 1 ? '' : 's'} failed and none has succeeded yet.`;
    const parts = [h('h2', headline)];
    if (first) {
      const code = first.exitCode === null || first.exitCode === undefined ? '' : ` (exit code ${first.exitCode})`;
      parts.push(h('div', 'First failure: ',
        h('a.mono', { href: `#/trial/${encodeURIComponent(first.trialJobId)}` }, first.trialJobId), code));
      if (first.stderrTail) {
        parts.push(h('div.muted.small', `The end of its stderr (${first.stderrPath || 'trial.stderr'}):`),
          h('pre.error-block', first.stderrTail));
      } else if (first.message) {
        parts.push(h('pre.error-block', first.message));
      }
      if (first.trialDir) parts.push(h('div.small', 'Trial directory: ', h('span.mono', first.trialDir)));
    }
    parts.push(h('div.muted.small', 'Check that the trial command runs by itself (same python, packages installed).'));
    setChildren(failureBanner, parts);
  }

  function renderElapsed() {
    let seconds = live.elapsedSeconds();
    const { startTime, endTime } = state.profile;
    if (seconds < 10 && startTime && endTime && FINAL_EXPERIMENT.has(state.status)) {
      // execDuration counts whole seconds (as NNI's): a run of a few seconds is told by its start and end
      seconds = Math.max(seconds, (endTime - startTime) / 1000);
    }
    const max = parseDuration(params().maxExperimentDuration);
    setText(elapsed, max ? `${duration(seconds)} / ${duration(max)}` : duration(seconds));
    const fill = durationBar.firstChild;
    fill.style.width = max ? `${Math.min(100, (seconds / max) * 100)}%` : '0%';
    durationBar.hidden = !max;
  }

  function renderTrials() {
    const counts = state.counts || {};
    const done = Object.entries(counts).filter(([s]) => TERMINAL.has(s)).reduce((a, [, n]) => a + n, 0);
    const max = params().maxTrialNumber;
    setText(trialsValue, max ? `${done} / ${max}` : `${done} done`);
    const denominator = Math.max(max || 0, state.total, 1);
    const segments = [...DONE_ORDER, 'RUNNING', 'WAITING'].filter((s) => counts[s]).map((s) => {
      const part = h('div.bar-part', { class: statusClass(s), title: `${statusLabel(s)}: ${counts[s]}` });
      part.style.width = `${(counts[s] / denominator) * 100}%`;
      return part;
    });
    setChildren(trialsBar, segments);
    const waiting = (counts.WAITING || 0) + (state.waiting || 0);
    const items = [['done', done], ['running', counts.RUNNING || 0], ['waiting', waiting],
      ['succeeded', counts.SUCCEEDED || 0], ['failed', counts.FAILED || 0]];
    const canceled = (counts.USER_CANCELED || 0) + (counts.SYS_CANCELED || 0);
    if (canceled) items.push(['canceled', canceled]);
    if (counts.EARLY_STOPPED) items.push(['early stopped', counts.EARLY_STOPPED]);
    setChildren(trialsBreakdown, items.map(([label, n]) => h('span', { dataset: { count: label } }, h('b', String(n)), ` ${label}`)));
  }

  function renderBest() {
    const best = state.best;
    if (!best) {
      setText(bestValue, '–');
      const yet = FINAL_EXPERIMENT.has(state.status) ? '' : ' yet';
      setChildren(bestTrial, h('span.muted', `no final result${yet} (${state.optimizeMode})`));
      return;
    }
    setText(bestValue, num(best.value));
    // several objectives: best by the first declared one, named with its direction
    const key = best.metricKey || 'default';
    const extra = best.metric ? Object.entries(best.metric).filter(([k]) => k !== 'default' && k !== key).map(([k, v]) => `${k} ${num(v)}`).join(' · ') : '';
    const mode = key === 'default' ? state.optimizeMode : `${key} (first objective), ${best.mode}`;
    setChildren(bestTrial, h('a.mono', { href: `#/trial/${encodeURIComponent(best.trialJobId)}` }, `#${best.sequenceId} ${best.trialJobId}`),
      h('span.muted', { dataset: { best: key } }, ` · ${mode}`), extra ? h('div.muted', extra) : null);
  }

  function renderInfo() {
    const p = params();
    const tuner = p.tuner || p.advisor || {};
    const rows = [
      ['Id', state.experimentId],
      ['Name', p.experimentName || ''],
      ['Tuner', tuner.name || tuner.className || ''],
      ['Assessor', p.assessor ? (p.assessor.name || p.assessor.className) : 'none'],
      ['Training service', Array.isArray(p.trainingService) ? p.trainingService.map((t) => t.platform).join(', ')
        : (p.trainingService || {}).platform || 'local'],
      ['Trial command', p.trialCommand || ''],
      ['Code directory', p.trialCodeDirectory || ''],
      ['Folder', state.profile.logDir || ''],
    ];
    setChildren(info, rows.map(([k, v]) => [h('dt', k), h('dd', { class: k === 'Trial command' || k === 'Folder' ? 'mono' : '' }, v)]));
    setText(configPre, JSON.stringify(p, null, 2));
  }

  let topMarker = null;
  async function renderTop() {
    if (topMarker === state.trialMarker) return;
    topMarker = state.trialMarker;
    try {
      const maximize = state.optimizeMode !== 'minimize';
      const page = await getJson('trial-jobs', { sort: 'metric', order: maximize ? 'desc' : 'asc', status: 'SUCCEEDED', limit: 10 });
      setChildren(topTable, page.trials.length ? page.trials.map((t) => h('tr',
        h('td', String(t.sequenceId ?? '')),
        h('td', h('a.mono', { href: `#/trial/${encodeURIComponent(t.trialJobId)}` }, t.trialJobId)),
        h('td.right.metric', t.metric ? num(t.metric.default) : ''),
        h('td.params', Object.entries(t.params || {}).map(([k, v]) => `${k}=${fmtValue(v)}`).join('  '))))
        : h('tr', h('td.muted', { colspan: '4' }, 'No succeeded trial yet')));
    } catch (error) {
      setChildren(topTable, h('tr', h('td.error-text', { colspan: '4' }, error.message)));
    }
  }

  let plot = null;
  function renderChart() {
    const digest = live.digest;
    if (!digest) return;
    if (!plot) {
      plot = new MetricPlot(chartHost, { mode: 'best' });
      plot.panel.height = 260;
    }
    plot.update({
      trials: digest.trials, paramNames: digest.paramNames, metricKeys: digest.metricKeys, metricIndex: 0,
      metricKey: digest.metricKeys[0] || 'default', metricLabel: 'metric', maximize: metricDirection('default', state),
      selected: new Set(), onOpen: (id) => { location.hash = `#/trial/${encodeURIComponent(id)}`; },
      finished: FINAL_EXPERIMENT.has(state.status),
    });
  }

  async function exportResults(kind) {
    try {
      const data = await getJson('export-data');
      if (kind === 'json') {
        download(`${state.experimentId}-results.json`, JSON.stringify(data, null, 2));
        return;
      }
      const names = [...new Set(data.flatMap((d) => Object.keys(d.parameter || {})))];
      const esc = (v) => {
        const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
        return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
      };
      const lines = [['trialJobId', 'value', ...names].map(esc).join(',')];
      for (const d of data) lines.push([d.trialJobId, d.value, ...names.map((n) => (d.parameter || {})[n])].map(esc).join(','));
      download(`${state.experimentId}-results.csv`, `${lines.join('\n')}\n`, 'text/csv');
    } catch (error) {
      toast(`Export failed: ${error.message}`, 'error');
    }
  }

  function renderAll() {
    renderStatus();
    renderFailures();
    renderElapsed();
    renderTrials();
    renderBest();
    renderInfo();
    for (const limit of limits) limit.update(state);
    renderTop();
  }

  renderAll();
  renderChart();
  const release = live.wantDigest();
  const offs = [
    live.on('state', ({ state: next }) => {
      const statusChanged = next.status !== state.status;
      state = next;
      renderAll();
      if (statusChanged) renderChart();  // the chart's empty message depends on whether more can come
    }),
    live.on('trials', renderChart),
    live.on('tick', renderElapsed),
    live.on('error', () => {
      for (const limit of limits) limit.update(state);
      renderStatus();
    }),
  ];
  performance.mark('nni:overview-rendered');
  return {
    destroy() {
      release();
      for (const off of offs) off();
      if (plot) plot.destroy();
    },
  };
}
