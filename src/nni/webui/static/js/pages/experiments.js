// All experiments on this machine (the .experiment manifest): list, open, delete stopped ones.

import { getJson, send } from '../api.js';
import { confirmDialog } from '../dialog.js';
import { copyText, h, setChildren, setText, toast } from '../dom.js';
import { statusClass, time } from '../format.js';
import { live } from '../live.js';

function portalUrl(entry) {
  const prefix = entry.prefixUrl ? `/${String(entry.prefixUrl).replace(/^\/+|\/+$/g, '')}/` : '/';
  return `${location.protocol}//${location.hostname}:${entry.port}${prefix}`;
}

export function mount(container) {
  const body = h('tbody');
  const filter = h('input.search', { type: 'search', placeholder: 'Filter by id, name, status, platform', 'aria-label': 'filter experiments' });
  const count = h('span.muted.small');
  const refresh = h('button.btn.ghost', { type: 'button', onclick: () => load() }, 'Refresh');
  container.append(h('section.card',
    h('div.card-head', h('h2', 'Experiments on this machine'), h('div.spacer'), count, refresh),
    h('div.toolbar', filter),
    h('div.scroll-x', h('table.simple.experiments',
      h('thead', h('tr', ['Id', 'Name', 'Status', 'Port', 'Platform', 'Started', 'Ended', 'Tags', ''].map((t) => h('th', t)))),
      body))));

  let entries = [];
  const current = () => (live.state ? live.state.experimentId : '');
  // after a resume the manifest holds the time of the latest start; the overview shows the experiment's
  // own start (its profile), and both pages must agree
  const startTime = (entry, isCurrent) => (isCurrent && live.state.profile && live.state.profile.startTime)
    || entry.startTime;

  function render() {
    const needle = filter.value.trim().toLowerCase();
    const shown = entries.filter((e) => !needle || [e.id, e.experimentName, e.status, e.platform, ...(e.tag || [])]
      .some((v) => String(v ?? '').toLowerCase().includes(needle)));
    shown.sort((a, b) => (b.startTime || 0) - (a.startTime || 0));
    setText(count, `${shown.length} of ${entries.length}`);
    setChildren(body, shown.length ? shown.map((entry) => {
      const isCurrent = entry.id === current();
      const running = entry.status !== 'STOPPED' && entry.port;
      const actions = h('div.row-actions');
      if (isCurrent) actions.appendChild(h('span.muted.small', 'this portal'));
      else if (running) actions.appendChild(h('a.btn.tiny', { href: portalUrl(entry), target: '_blank', rel: 'noopener' }, 'Open'));
      else {
        actions.appendChild(h('button.btn.tiny.ghost', { type: 'button', title: 'copy the command that opens it read-only',
          onclick: async () => {
            const ok = await copyText(`nnictl view ${entry.id}`);
            toast(ok ? `Copied: nnictl view ${entry.id}` : `Run: nnictl view ${entry.id}`);
          } }, 'nnictl view'));
        actions.appendChild(h('button.btn.tiny.danger', { type: 'button', dataset: { delete: entry.id },
          onclick: () => remove(entry) }, 'Delete'));
      }
      return h('tr', { class: isCurrent ? 'current' : '', dataset: { id: entry.id } },
        h('td.mono', entry.id),
        h('td', entry.experimentName || ''),
        h('td', h('span.pill.small', { class: statusClass(entry.status) }, entry.status || '')),
        h('td', entry.port && entry.status !== 'STOPPED' ? String(entry.port) : ''),
        h('td', entry.platform || ''),
        h('td', time(startTime(entry, isCurrent))),
        h('td', typeof entry.endTime === 'number' ? time(entry.endTime) : ''),
        h('td', (entry.tag || []).join(', ')),
        h('td', actions));
    }) : h('tr', h('td.muted', { colspan: '9' }, 'No experiment found')));
  }

  async function remove(entry) {
    const ok = await confirmDialog('Delete experiment',
      `Delete experiment ${entry.id}${entry.experimentName ? ` (${entry.experimentName})` : ''}? Its folder, database, `
      + 'logs and trial outputs are removed for good.', { confirmLabel: 'Delete', danger: true });
    if (!ok) return;
    try {
      await send('DELETE', `portal/experiments/${encodeURIComponent(entry.id)}`);
      toast(`Experiment ${entry.id} deleted`);
      load();
    } catch (error) {
      toast(`Cannot delete ${entry.id}: ${error.message}`, 'error', 8000);
    }
  }

  async function load() {
    try {
      const data = await getJson('experiments-info');
      entries = Array.isArray(data) ? data : [];
      render();
    } catch (error) {
      setChildren(body, h('tr', h('td.error-text', { colspan: '9' }, error.message)));
    }
  }

  filter.addEventListener('input', render);
  load();
  // the manifest changes rarely and is not covered by the state marker: re-read it now and then
  const timer = setInterval(() => {
    if (!document.hidden) load();
  }, 10000);
  performance.mark('nni:experiments-rendered');
  return {
    destroy() {
      clearInterval(timer);
    },
  };
}
