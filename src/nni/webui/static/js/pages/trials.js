// Trials page: charts over every trial on top, the virtualized, server-paged table below.

import { getJson, prefetchJson, send } from '../api.js';
import { contentDialog, confirmDialog } from '../dialog.js';
import { copyText, debounce, download, h, setChildren, setText, toast } from '../dom.js';
import {
  ACTIVE_TRIAL, duration, FINAL_EXPERIMENT, num, statusClass, statusLabel, time, trialMillis, value as fmtValue,
} from '../format.js';
import { live } from '../live.js';
import {
  DurationPlot, IntermediatePlot, MetricPlot, PALETTE, ParallelPlot, ParetoPlot, statusLegend,
} from '../components/plots.js';
import { VirtualTable } from '../components/table.js';

const TABS = [
  { id: 'metric', title: 'Metric' },
  { id: 'best', title: 'Best so far' },
  { id: 'parallel', title: 'Hyper-parameters' },
  { id: 'intermediate', title: 'Intermediate results' },
  { id: 'duration', title: 'Duration' },
  { id: 'pareto', title: 'Pareto front', multi: true },
];
const STATUS_ORDER = ['RUNNING', 'WAITING', 'SUCCEEDED', 'FAILED', 'USER_CANCELED', 'EARLY_STOPPED', 'SYS_CANCELED', 'UNKNOWN'];
const MINIMIZE_HINT = /loss|err|mse|mae|rmse|latency|time|cost|size|param|flops|memory/i;
const MAX_COMPARE = 20;

// the column chooser's choice outlives the page (as NNI's portal keeps it)
const HIDDEN_COLUMNS_KEY = 'nni.trials.hiddenColumns';

// kept across visits so that opening a trial and coming back restores the view
// (metricKey, paretoX and paretoY stay null until the user picks one: until then the declared
// objectives, if any, choose)
const saved = {
  tab: 'metric', metricKey: null, directions: {}, sort: 'sequenceId', order: 'asc', statuses: new Set(),
  search: '', selected: new Set(), topN: 0, paretoX: null, paretoY: null, hidden: loadHiddenColumns(),
};

function loadHiddenColumns() {
  try {
    const stored = JSON.parse(localStorage.getItem(HIDDEN_COLUMNS_KEY) || '[]');
    return new Set(Array.isArray(stored) ? stored.map(String) : []);
  } catch {
    return new Set();
  }
}

function saveHiddenColumns() {
  try {
    localStorage.setItem(HIDDEN_COLUMNS_KEY, JSON.stringify([...saved.hidden]));
  } catch {
    // private mode or storage full: the choice lasts until the page is left
  }
}

const DIRECTIONS = { maximize: true, minimize: false };
const isMapping = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * The objectives a multi-objective experiment declares, as `[{name, maximize}]` in declaration
 * order; empty for a single objective. Read from the config in the state's profile by the same
 * rules as the manager (nni.common.objectives.objectives_of_config): the tuner's (else the
 * advisor's) `optimize_mode` as a mapping of two or more metrics to maximize/minimize.
 */
export function declaredObjectives(state) {
  const params = state && state.profile ? state.profile.params || {} : {};
  for (const section of ['tuner', 'advisor']) {
    const algorithm = params[section];
    if (!isMapping(algorithm)) continue;
    const classArgs = algorithm.classArgs || algorithm.class_args || {};
    if (!isMapping(classArgs)) continue;
    const modes = classArgs.optimize_mode;
    if (!isMapping(modes)) return [];
    const entries = Object.entries(modes);
    if (entries.length < 2 || entries.some(([name, mode]) => !name || !(mode in DIRECTIONS))) return [];
    return entries.map(([name, mode]) => ({ name, maximize: DIRECTIONS[mode] }));
  }
  return [];
}

export function metricDirection(key, state) {
  if (key in saved.directions) return saved.directions[key];
  const declared = declaredObjectives(state).find((o) => o.name === key);
  if (declared) return declared.maximize;
  if (key === 'default') return state.optimizeMode !== 'minimize';
  return !MINIMIZE_HINT.test(key);
}

/** Metric keys for the pickers: the declared objectives first (in their order), then the rest. */
export function objectivesFirst(keys, state) {
  const declared = declaredObjectives(state).map((o) => o.name).filter((name) => keys.includes(name));
  return [...declared, ...keys.filter((k) => !declared.includes(k))];
}

export function trialRowParams(trial) {
  return trial.parameters ?? {};
}

export async function killTrial(id) {
  const ok = await confirmDialog('Kill trial', `Stop trial ${id} now? It will end as canceled.`,
    { confirmLabel: 'Kill trial', danger: true });
  if (!ok) return false;
  try {
    await send('DELETE', `trial-jobs/${encodeURIComponent(id)}`);
    toast(`Trial ${id} is being stopped`);
    live.refresh();
    return true;
  } catch (error) {
    toast(`Cannot kill ${id}: ${error.message}`, 'error', 8000);
    return false;
  }
}

export async function copyParameters(trial) {
  const text = JSON.stringify(trialRowParams(trial), null, 2);
  const ok = await copyText(text);
  toast(ok ? `Parameters of ${trial.trialJobId} copied` : 'Copy failed; select and copy by hand', ok ? 'info' : 'error');
}

const PAGE_SIZE = 100;

function tableQuery() {
  return { sort: saved.sort, order: saved.order, search: saved.search.trim(), status: [...saved.statuses].join(',') };
}

/** Fetch what the first view of the table shows before the page is mounted (see main.js). */
export function prefetch() {
  prefetchJson('trial-jobs', { ...tableQuery(), offset: 0, limit: PAGE_SIZE });
}

export function mount(container) {
  const marks = { table: false, chart: false };
  const markDone = (what) => {
    if (marks[what]) return;
    marks[what] = true;
    performance.mark(`nni:${what}-rendered`);
    if (marks.table && marks.chart && !performance.getEntriesByName('nni:first-render').length) {
      performance.mark('nni:first-render');
      // a DOM flag as well, so tests and benchmarks can wait for it with a selector (the page's
      // CSP forbids the eval a polled JavaScript predicate would need)
      document.documentElement.dataset.firstRender = 'done';
    }
  };

  // ------------------------------------------------------------------ layout
  const tabBar = h('div.tabs', { role: 'tablist' });
  const chartOptions = h('div.chart-options');
  const chartHost = h('div.chart-host');
  const chartFoot = h('div.chart-foot');
  const chartCard = h('section.card.charts', tabBar, chartOptions, chartHost, chartFoot);

  const search = h('input.search', { type: 'search', placeholder: 'Search: free text, or kernel=rbf  C>1  metric>=0.9  status:failed',
    'aria-label': 'search trials', value: saved.search });
  const chips = h('div.chips', { role: 'group', 'aria-label': 'filter by status' });
  const counter = h('span.muted.small.count');
  const compareButton = h('button.btn', { type: 'button', disabled: true, onclick: () => openCompare() }, 'Compare');
  const clearButton = h('button.btn.ghost', { type: 'button', hidden: true, onclick: () => {
    saved.selected.clear();
    selectionChanged();
  } }, 'Clear selection');
  const exportButton = h('button.btn.ghost', { type: 'button', onclick: () => exportCsv() }, 'Export CSV');
  const columnsButton = h('button.btn.ghost', { type: 'button', 'aria-haspopup': 'true', 'aria-expanded': 'false',
    dataset: { action: 'columns' }, onclick: () => toggleColumnChooser() }, 'Columns');
  const columnChooser = h('div.column-chooser.card', { role: 'group', 'aria-label': 'shown columns', hidden: true });
  const toolbar = h('div.toolbar', search, chips, h('div.spacer'), counter, clearButton, compareButton,
    h('div.chooser-anchor', columnsButton, columnChooser), exportButton);
  const tableHost = h('div.table-host');
  const tableCard = h('section.card.table-card', toolbar, tableHost);
  container.append(chartCard, tableCard);

  let state = live.state;
  let digest = live.digest;
  let plot = null;
  let series = null;
  let seriesMarker = null;
  let paramNames = state.paramNames;
  let metricKeys = state.metricKeys;

  // ------------------------------------------------------------------ table
  const columnsFor = () => {
    const columns = [
      {
        key: 'select', title: '', width: 36, header: (cell) => cell.appendChild(h('span.sr', 'select')),
        render: (row, cell) => {
          let box = cell.firstChild;
          if (!box) {
            box = h('input', { type: 'checkbox', 'aria-label': 'select trial' });
            box.addEventListener('change', () => {
              const id = cell._id;
              if (box.checked) {
                if (saved.selected.size >= MAX_COMPARE) {
                  box.checked = false;
                  toast(`Select at most ${MAX_COMPARE} trials`, 'error');
                  return;
                }
                saved.selected.add(id);
              } else {
                saved.selected.delete(id);
              }
              selectionChanged();
            });
            cell.appendChild(box);
          }
          cell._id = row.trialJobId;
          box.checked = saved.selected.has(row.trialJobId);
        },
      },
      { key: 'seq', title: '#', width: 64, sortKey: 'sequenceId', align: 'right', render: (row, cell) => setText(cell, row.sequenceId ?? '') },
      {
        key: 'id', title: 'Trial', width: 96, sortKey: 'trialJobId', cellClass: 'mono',
        render: (row, cell) => {
          let link = cell.firstChild;
          if (!link) cell.appendChild(link = h('a'));
          link.href = `#/trial/${encodeURIComponent(row.trialJobId)}`;
          setText(link, row.trialJobId);
        },
      },
      {
        key: 'status', title: 'Status', width: 128, sortKey: 'status',
        render: (row, cell) => {
          let pill = cell.firstChild;
          if (!pill) cell.appendChild(pill = h('span'));
          pill.className = `pill small ${statusClass(row.status)}`;
          setText(pill, statusLabel(row.status));
        },
      },
      { key: 'start', title: 'Started', width: 168, sortKey: 'startTime', render: (row, cell) => setText(cell, time(row.startTime)) },
      {
        key: 'duration', title: 'Duration', width: 96, sortKey: 'duration', align: 'right',
        render: (row, cell) => setText(cell, duration(trialMillis({ start: row.startTime, end: row.endTime, status: row.status }) / 1000)),
      },
    ];
    for (const key of metricKeys) {
      columns.push({
        key: `metric:${key}`, title: key === 'default' ? 'Metric' : key, tooltip: `final metric: ${key}`, width: 112,
        sortKey: key === 'default' ? 'metric' : `metric:${key}`, align: 'right', cellClass: 'metric',
        render: (row, cell) => setText(cell, row.metric ? num(row.metric[key]) : ''),
      });
    }
    if (!metricKeys.length) {
      columns.push({ key: 'metric', title: 'Metric', width: 112, sortKey: 'metric', align: 'right', render: (row, cell) => setText(cell, '') });
    }
    for (const name of paramNames) {
      columns.push({
        key: `param:${name}`, title: name, width: 'minmax(110px, 1fr)', sortKey: `param:${name}`, cellClass: 'param',
        render: (row, cell) => {
          const v = row.params ? row.params[name] : undefined;
          setText(cell, fmtValue(v));
          cell.title = typeof v === 'string' && v.length > 14 ? v : '';
        },
      });
    }
    columns.push({
      key: 'actions', title: '', width: 132, header: (cell) => cell.appendChild(h('span.sr', 'actions')),
      render: (row, cell) => {
        if (!cell.firstChild) {
          const copy = h('button.btn.tiny', { type: 'button', title: 'copy parameters as JSON', onclick: () => copyParameters(cell._row) }, 'Copy');
          const kill = h('button.btn.tiny.danger', { type: 'button', title: 'kill this trial', onclick: async () => {
            if (await killTrial(cell._row.trialJobId)) table.refresh();
          } }, 'Kill');
          cell.append(copy, kill);
        }
        cell._row = row;
        const kill = cell.lastChild;
        kill.hidden = !ACTIVE_TRIAL.has(row.status) || (state && state.readOnly);
      },
    });
    return columns;
  };
  // select, trial id and actions always show; every other column can be hidden
  const FIXED_COLUMNS = new Set(['select', 'id', 'actions']);
  const shownColumns = () => columnsFor().filter((c) => FIXED_COLUMNS.has(c.key) || !saved.hidden.has(c.key));

  function renderColumnChooser() {
    setChildren(columnChooser, h('div.small.muted', 'Columns'), columnsFor().filter((c) => !FIXED_COLUMNS.has(c.key))
      .map((column) => {
        const box = h('input', { type: 'checkbox', dataset: { column: column.key } });
        box.checked = !saved.hidden.has(column.key);
        box.addEventListener('change', () => {
          if (box.checked) saved.hidden.delete(column.key);
          else saved.hidden.add(column.key);
          saveHiddenColumns();
          table.setColumns(shownColumns());
        });
        return h('label.chooser-item', box, ` ${column.title}`);
      }),
    h('button.btn.tiny.ghost', { type: 'button', onclick: () => {
      saved.hidden.clear();
      saveHiddenColumns();
      table.setColumns(shownColumns());
      renderColumnChooser();
    } }, 'Show all'));
  }

  function toggleColumnChooser(open = columnChooser.hidden) {
    if (open) renderColumnChooser();
    columnChooser.hidden = !open;
    columnsButton.setAttribute('aria-expanded', String(open));
  }
  const closeChooser = (event) => {
    if (!columnChooser.hidden && !columnChooser.contains(event.target) && event.target !== columnsButton) {
      toggleColumnChooser(false);
    }
  };
  document.addEventListener('click', closeChooser);

  const query = tableQuery;

  const table = new VirtualTable(tableHost, {
    columns: shownColumns(),
    height: Math.max(360, window.innerHeight - 260),
    pageSize: PAGE_SIZE,
    empty: 'No trial matches',
    fetchPage: async (offset, limit) => {
      const result = await getJson('trial-jobs', { ...query(), offset, limit });
      if (result.paramNames.join('\u0000') !== paramNames.join('\u0000')
          || result.metricKeys.join('\u0000') !== metricKeys.join('\u0000')) {
        paramNames = result.paramNames;
        metricKeys = result.metricKeys;
        table.setColumns(shownColumns());
      }
      return { total: result.total, rows: result.trials, all: result.all };
    },
    onSort: (column) => {
      if (saved.sort === column.sortKey) saved.order = saved.order === 'asc' ? 'desc' : 'asc';
      else {
        saved.sort = column.sortKey;
        // metrics open with the best first; everything else ascending
        saved.order = column.sortKey.startsWith('metric') && metricDirection(column.key.slice(7) || 'default', state) ? 'desc' : 'asc';
      }
      table.setSort(saved.sort, saved.order);
      table.reset();
    },
    onRowClick: (row) => {
      location.hash = `#/trial/${encodeURIComponent(row.trialJobId)}`;
    },
  });
  table.setSort(saved.sort, saved.order);
  table.decorateRow = (row, el) => el.classList.toggle('selected', saved.selected.has(row.trialJobId));
  table.firstRender = () => markDone('table');
  table.onLoaded = (result) => {
    setText(counter, result.total === result.all ? `${result.total} trials` : `${result.total} of ${result.all} trials`);
    setText(table.emptyNode, result.all ? 'No trial matches the filter' : 'No trials yet');
  };
  table.onError = (error) => toast(`Cannot load trials: ${error.message}`, 'error', 8000);

  const searchChanged = debounce(() => {
    saved.search = search.value;
    table.reset();
  }, 200);
  search.addEventListener('input', searchChanged);

  function renderChips() {
    const counts = state.counts || {};
    const present = STATUS_ORDER.filter((s) => counts[s]).concat(Object.keys(counts).filter((s) => !STATUS_ORDER.includes(s)));
    setChildren(chips, h('button.chip', { type: 'button', class: saved.statuses.size ? '' : 'on', 'aria-pressed': String(!saved.statuses.size),
      onclick: () => {
        saved.statuses.clear();
        renderChips();
        table.reset();
      } }, `All ${state.total}`),
    present.map((status) => h('button.chip', {
      type: 'button', class: `${saved.statuses.has(status) ? 'on' : ''} ${statusClass(status)}`,
      'aria-pressed': String(saved.statuses.has(status)), dataset: { status },
      onclick: () => {
        if (saved.statuses.has(status)) saved.statuses.delete(status);
        else saved.statuses.add(status);
        renderChips();
        table.reset();
      },
    }, `${statusLabel(status)} ${counts[status]}`)));
  }

  function selectionChanged() {
    const n = saved.selected.size;
    compareButton.disabled = n < 1;
    setText(compareButton, n ? `Compare ${n}` : 'Compare');
    clearButton.hidden = n === 0;
    table.repaint();
    drawChart();
  }

  // ------------------------------------------------------------------ charts
  function metricIndex() {
    const keys = digest ? digest.metricKeys : [];
    // the user's pick, else the first declared objective, else the first key (default)
    const i = keys.indexOf(saved.metricKey);
    if (i >= 0) return i;
    const first = objectivesFirst(keys, state)[0];
    return first === undefined ? 0 : keys.indexOf(first);
  }

  /**
   * Axes of the Pareto tab and what its front means. The user's picks win; otherwise the first
   * two declared objectives, otherwise the first two keys. `experiment` lists the declared
   * objectives whenever the plotted pair's front is not the experiment's own (three or more
   * objectives, other axes, or directions turned around), so the plot can ring that front too.
   */
  function paretoView(keys) {
    const ordered = objectivesFirst(keys, state);
    const xKey = keys.includes(saved.paretoX) ? saved.paretoX : ordered[0];
    // y keeps its default (the second objective) when only x was picked, unless x took it
    const yKey = [saved.paretoY, ordered[1], ...ordered].find((k) => keys.includes(k) && k !== xKey);
    const pareto = { xKey, yKey, xIndex: keys.indexOf(xKey), yIndex: keys.indexOf(yKey),
      maxX: metricDirection(xKey, state), maxY: metricDirection(yKey, state), declared: [], isExperimentFront: false,
      experiment: null };
    const declared = declaredObjectives(state);
    if (declared.length) {
      pareto.declared = declared;
      const byName = new Map(declared.map((o) => [o.name, o]));
      pareto.isExperimentFront = declared.length === 2 && byName.has(xKey) && byName.has(yKey)
        && byName.get(xKey).maximize === pareto.maxX && byName.get(yKey).maximize === pareto.maxY;
      if (!pareto.isExperimentFront && declared.every((o) => keys.includes(o.name))) {
        pareto.experiment = declared.map((o) => ({ ...o, index: keys.indexOf(o.name) }));
      }
    }
    return pareto;
  }

  function makeView() {
    const keys = digest.metricKeys;
    const key = keys[metricIndex()] || 'default';
    const view = {
      trials: digest.trials, paramNames: digest.paramNames, metricKeys: keys, metricIndex: metricIndex(), metricKey: key,
      metricLabel: key === 'default' ? 'metric' : key, maximize: metricDirection(key, state), selected: saved.selected,
      space: state.profile.params.searchSpace || {}, topN: saved.topN, finished: FINAL_EXPERIMENT.has(state.status),
      onOpen: (id) => { location.hash = `#/trial/${encodeURIComponent(id)}`; },
    };
    if (saved.tab === 'pareto' && keys.length >= 2) view.pareto = paretoView(keys);
    return view;
  }

  function renderTabs() {
    const multi = digest && digest.metricKeys.length >= 2;
    const tabs = TABS.filter((t) => !t.multi || multi);
    if (!tabs.some((t) => t.id === saved.tab)) saved.tab = 'metric';
    setChildren(tabBar, tabs.map((tab) => h('button.tab', {
      type: 'button', role: 'tab', 'aria-selected': String(tab.id === saved.tab), class: tab.id === saved.tab ? 'on' : '',
      dataset: { tab: tab.id },
      onclick: () => {
        saved.tab = tab.id;
        renderTabs();
        buildChart();
      },
    }, tab.title)));
  }

  function directionToggle(key) {
    const select = h('select', { 'aria-label': `direction of ${key}`, onchange: () => {
      saved.directions[key] = select.value === 'max';
      drawChart();
    } }, h('option', { value: 'max' }, 'higher is better'), h('option', { value: 'min' }, 'lower is better'));
    select.value = metricDirection(key, state) ? 'max' : 'min';
    return select;
  }

  function renderOptions() {
    const keys = digest ? objectivesFirst(digest.metricKeys, state) : [];
    const parts = [];
    if (saved.tab === 'pareto') {
      const view = makeView();
      const pick = (label, current, assign) => {
        const select = h('select', { 'aria-label': label, onchange: () => {
          assign(select.value);
          renderOptions();
          drawChart();
        } }, keys.map((k) => h('option', { value: k }, k)));
        select.value = current;
        return h('label.opt', `${label} `, select, ' ', directionToggle(current));
      };
      // picking on one axis what the other shows swaps them, so neither pick is lost
      const { xKey, yKey } = view.pareto;
      parts.push(pick('x', xKey, (v) => {
        if (v === yKey) saved.paretoY = xKey;
        saved.paretoX = v;
      }), pick('y', yKey, (v) => {
        if (v === xKey) saved.paretoX = yKey;
        saved.paretoY = v;
      }));
    } else if (keys.length > 1) {
      const select = h('select', { 'aria-label': 'metric key', onchange: () => {
        saved.metricKey = select.value;
        renderOptions();
        drawChart();
      } }, keys.map((k) => h('option', { value: k }, k === 'default' ? 'default metric' : k)));
      const current = digest.metricKeys[metricIndex()];
      select.value = current;
      parts.push(h('label.opt', 'metric ', select), directionToggle(current));
    } else if (saved.tab === 'best') {
      parts.push(directionToggle('default'));
    }
    if (saved.tab === 'intermediate') {
      const select = h('select', { 'aria-label': 'trials shown', onchange: () => {
        saved.topN = Number(select.value);
        drawChart();
      } }, [[0, 'all trials'], [10, 'best 10'], [50, 'best 50'], [200, 'best 200']].map(([v, t]) => h('option', { value: String(v) }, t)));
      select.value = String(saved.topN);
      parts.push(h('label.opt', 'show ', select));
    }
    if ((saved.tab === 'metric' || saved.tab === 'duration') && digest) {
      // only the statuses that have a mark on this chart
      const index = metricIndex();
      const shown = new Set(digest.trials.filter((t) => (saved.tab === 'metric'
        ? t.metric && typeof t.metric[index] === 'number' : t.start)).map((t) => t.status));
      parts.push(statusLegend(['SUCCEEDED', 'FAILED', 'RUNNING', 'USER_CANCELED', 'EARLY_STOPPED', 'SYS_CANCELED']
        .filter((s) => shown.has(s))));
    }
    setChildren(chartOptions, parts);
  }

  function buildChart() {
    if (plot) plot.destroy();
    plot = null;
    setChildren(chartFoot);
    if (!digest) {
      setChildren(chartHost, h('p.muted.loading', 'Loading trials…'));
      return;
    }
    setChildren(chartHost);
    renderOptions();
    const tab = saved.tab;
    if (tab === 'metric') plot = new MetricPlot(chartHost, { mode: 'points' });
    else if (tab === 'best') plot = new MetricPlot(chartHost, { mode: 'best' });
    else if (tab === 'parallel') {
      plot = new ParallelPlot(chartHost);
      const info = h('span.muted.small', 'Drag along an axis to select a range.');
      const apply = h('button.btn.tiny', { type: 'button', hidden: true }, 'Filter table');
      const reset = h('button.btn.tiny.ghost', { type: 'button', hidden: true, onclick: () => plot.clearBrushes() }, 'Clear');
      plot.onBrush = (summary) => {
        apply.hidden = !summary.query;
        reset.hidden = summary.count === 0;
        setText(info, summary.count ? `${summary.inside} of ${digest.trials.length} trials in the selected ranges.`
          : 'Drag along an axis to select a range.');
        apply.onclick = () => {
          search.value = summary.query;
          saved.search = summary.query;
          table.reset();
          tableCard.scrollIntoView({ behavior: 'smooth' });
        };
      };
      setChildren(chartFoot, info, ' ', apply, ' ', reset);
    } else if (tab === 'intermediate') {
      plot = new IntermediatePlot(chartHost);
      loadSeries();
    } else if (tab === 'duration') plot = new DurationPlot(chartHost);
    else if (tab === 'pareto') plot = new ParetoPlot(chartHost);
    plot.rendered = () => markDone('chart');
    drawChart();
  }

  function drawChart() {
    if (!plot || !digest) return;
    if (plot instanceof IntermediatePlot) plot.setSeries(series ? series.trials : null);
    const view = makeView();
    plot.update(view);
    if (plot instanceof ParetoPlot) setChildren(chartFoot, paretoFoot(view.pareto));
  }

  /** The trials on the drawn front, and the experiment's front when that is another set. */
  function paretoFoot(pareto) {
    if (!pareto) return [];
    const dir = (maximize) => (maximize ? 'max' : 'min');
    const pair = `${pareto.xKey} (${dir(pareto.maxX)}) and ${pareto.yKey} (${dir(pareto.maxY)})`;
    const all = pareto.declared.map((o) => `${o.name} (${dir(o.maximize)})`).join(', ');
    let title;
    if (pareto.isExperimentFront) title = `The experiment's Pareto front, over ${pair}`;
    else if (pareto.declared.length > 2) title = `Pareto front of the 2-D projection on ${pair}`;
    else title = `Pareto front of ${pair}`;
    const lines = [frontLine('plot', title, plot.front)];
    if (plot.experimentFront) {
      lines.push(frontLine('experiment', `The experiment's Pareto front over all ${pareto.declared.length} objectives, `
        + `${all} (ringed)`, plot.experimentFront));
    } else if (pareto.declared.length && !pareto.isExperimentFront) {
      const missing = pareto.declared.filter((o) => !digest.metricKeys.includes(o.name)).map((o) => o.name);
      lines.push(h('div.muted.small', `The experiment's objectives are ${all}; no trial has reported `
        + `${missing.join(', ')} yet, so its own Pareto front is empty.`));
    }
    return lines;
  }

  function frontLine(kind, title, trials) {
    const front = trials.slice().sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
    return h('div.pareto-front', { dataset: { front: kind, count: String(front.length) } },
      h('span.muted.small', `${title}: ${front.length} trial${front.length === 1 ? '' : 's'}: `),
      front.slice(0, 40).map((t) => [h('a.mono', { href: `#/trial/${encodeURIComponent(t.id)}` }, t.id), ' ']),
      front.length > 40 ? '…' : '');
  }

  async function loadSeries() {
    try {
      const result = await getJson('portal/intermediates', null, { conditional: true });
      if (result.changed || !series) {
        series = result.data;
        seriesMarker = series.marker;
        drawChart();
      }
    } catch (error) {
      toast(`Cannot load intermediate results: ${error.message}`, 'error');
    }
  }

  // ------------------------------------------------------------------ compare & export
  async function openCompare() {
    const ids = [...saved.selected];
    const body = h('div.compare', h('p.muted', 'Loading…'));
    contentDialog(`Compare ${ids.length} trials`, body);
    try {
      const [page, inter] = await Promise.all([
        getJson('trial-jobs', { ids: ids.join(','), limit: MAX_COMPARE }),
        getJson('portal/intermediates', { trials: ids.join(',') }),
      ]);
      const trials = page.trials;
      const rows = [['Status', (t) => statusLabel(t.status)], ['Duration', (t) => duration(trialMillis({ start: t.startTime, end: t.endTime, status: t.status }) / 1000)]];
      for (const key of page.metricKeys) rows.push([key === 'default' ? 'Metric' : key, (t) => (t.metric ? num(t.metric[key]) : '')]);
      for (const name of page.paramNames) rows.push([name, (t) => fmtValue(t.params[name])]);
      const swatch = (i) => {
        const mark = h('span.swatch');
        mark.style.background = PALETTE[i % PALETTE.length];
        return mark;
      };
      const table = h('table.kv.compare-table',
        h('colgroup', h('col.label-col'), trials.map(() => h('col.trial-col'))),
        h('thead', h('tr', h('th', ''), trials.map((t, i) => h('th', swatch(i), ' ',
          h('a.mono', { href: `#/trial/${encodeURIComponent(t.trialJobId)}` }, `#${t.sequenceId} ${t.trialJobId}`))))),
        h('tbody', rows.map(([label, get]) => {
          const values = trials.map(get);
          const differs = new Set(values).size > 1;
          return h('tr', { class: differs ? 'differs' : '' }, h('th', label), values.map((v) => h('td', v)));
        })));
      const chartBox = h('div');
      // every trial column the same width; many trials scroll sideways rather than squeeze
      table.style.minWidth = `${160 + trials.length * 150}px`;
      setChildren(body, h('div.scroll-x', table), h('h3', 'Intermediate results'), chartBox);
      const chart = new IntermediatePlot(chartBox);
      chart.setSeries(inter.trials);
      const byId = new Map((digest ? digest.trials : []).map((t) => [t.id, t]));
      const subset = trials.map((t) => byId.get(t.trialJobId)).filter(Boolean);
      const view = makeView();
      chart.update({ ...view, trials: subset, selected: new Set(), topN: 0, palette: true });
    } catch (error) {
      setChildren(body, h('p.error-text', `Cannot compare: ${error.message}`));
    }
  }

  async function exportCsv() {
    const q = query();
    const all = [];
    let names = [];
    let keys = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await getJson('trial-jobs', { ...q, offset, limit: 1000 });
      names = page.paramNames;
      keys = page.metricKeys;
      all.push(...page.trials);
      if (offset + 1000 >= page.total) break;
    }
    const esc = (v) => {
      const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
      return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    };
    const header = ['sequenceId', 'trialJobId', 'status', 'startTime', 'endTime', ...keys.map((k) => `metric:${k}`), ...names];
    const lines = [header.map(esc).join(',')];
    for (const t of all) {
      lines.push([t.sequenceId, t.trialJobId, t.status, t.startTime, t.endTime,
        ...keys.map((k) => (t.metric ? t.metric[k] : '')), ...names.map((n) => t.params[n])].map(esc).join(','));
    }
    download(`${state.experimentId}-trials.csv`, `${lines.join('\n')}\n`, 'text/csv');
  }

  // ------------------------------------------------------------------ live updates
  renderChips();
  renderTabs();
  buildChart();
  const release = live.wantDigest();
  const offState = live.on('state', ({ state: next, previous }) => {
    state = next;
    renderChips();
    if (!previous || previous.trialMarker !== next.trialMarker) table.refresh();
  });
  const offTrials = live.on('trials', (next) => {
    const first = !digest;
    const keysChanged = digest && digest.metricKeys.length !== next.metricKeys.length;
    digest = next;
    if (first || keysChanged) {
      renderTabs();
      buildChart();
    } else {
      drawChart();
    }
    if (saved.tab === 'intermediate' && seriesMarker !== next.marker) loadSeries();
  });
  const offTick = live.on('tick', () => {
    if ((state.counts || {}).RUNNING) table.repaint();
  });

  return {
    destroy() {
      document.removeEventListener('click', closeChooser);
      release();
      offState();
      offTrials();
      offTick();
      if (plot) plot.destroy();
      table.destroy();
    },
  };
}
