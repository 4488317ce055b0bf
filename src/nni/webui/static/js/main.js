// Entry point: header, routing between pages, live-update plumbing.
//
// Routes live in the URL fragment (#/trials, #/trial/<id>), so deep links work under any url
// prefix without the server knowing the portal's pages. NNI's portal paths (/oview, /detail,
// /experiment) are redirected to their pages here.

import './token.js'; // first: wraps fetch before any request (token of a non-loopback manager)
import { setTokenProvider } from './api.js';
import { promptDialog } from './dialog.js';
import { h, setChildren, setText } from './dom.js';
import { statusClass } from './format.js';
import { live } from './live.js';
import { prefetch as prefetchTrials } from './pages/trials.js';

const PAGES = {
  overview: () => import('./pages/overview.js'),
  trials: () => import('./pages/trials.js'),
  trial: () => import('./pages/trial.js'),
  'search-space': () => import('./pages/searchspace.js'),
  experiments: () => import('./pages/experiments.js'),
};
const LEGACY_PATHS = { oview: 'overview', detail: 'trials', experiment: 'experiments' };

const pageHost = document.getElementById('page');
let current = null;
let routeVersion = 0;

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const name = parts[0] && PAGES[parts[0]] ? parts[0] : 'overview';
  return { name, args: parts.slice(1) };
}

function redirectLegacyPath() {
  const base = new URL(document.baseURI);
  if (location.pathname === base.pathname) return;
  const rest = location.pathname.slice(base.pathname.length).replace(/\/$/, '');
  const page = LEGACY_PATHS[rest] || 'overview';
  history.replaceState(null, '', `${base.pathname}${location.hash || `#/${page}`}`);
}

async function route() {
  const version = ++routeVersion;
  const { name, args } = parseRoute();
  for (const link of document.querySelectorAll('.nav a')) {
    link.classList.toggle('active', link.dataset.page === name || (name === 'trial' && link.dataset.page === 'trials'));
  }
  const module = await PAGES[name]();
  if (version !== routeVersion) return;
  if (current && current.destroy) current.destroy();
  const container = h('div.page-inner', { dataset: { page: name } });
  setChildren(pageHost, container);
  current = module.mount(container, args) || {};
  window.scrollTo(0, 0);
}

function renderHeader({ state }) {
  const name = state.profile.params.experimentName || '';
  setText(document.getElementById('exp-name'), name);
  setText(document.getElementById('exp-id'), state.experimentId);
  const pill = document.getElementById('exp-status');
  pill.className = `pill ${statusClass(state.status)}`;
  setText(pill, state.status);
  document.title = `${name || state.experimentId} · ${state.status} · NNI`;
  const banner = document.getElementById('banner');
  if (state.status === 'ERROR' && state.errors.length) {
    banner.hidden = false;
    banner.className = 'banner error';
    setChildren(banner, h('strong', 'The experiment failed. '), state.errors[state.errors.length - 1].split('\n')[0],
      ' ', h('a', { href: '#/overview' }, 'details'));
  } else {
    banner.hidden = true;
  }
}

function renderReachability() {
  const dot = document.getElementById('live-dot');
  const banner = document.getElementById('banner');
  const updated = document.getElementById('updated');
  if (!live.reachable) {
    dot.className = 'live-dot down';
    dot.title = 'the manager does not answer';
    banner.hidden = false;
    banner.className = 'banner warn';
    setChildren(banner, h('strong', 'The manager does not answer. '),
      'The experiment may have been stopped; the page shows the last data it received and keeps retrying.');
    return;
  }
  const on = live.state && live.interval > 0;
  dot.className = `live-dot ${on ? 'on' : 'off'}`;
  dot.title = on ? 'live updates on' : 'live updates off';
  setText(updated, on ? 'live' : 'paused');
}

async function askToken(reason) {
  const folder = live.state && live.state.profile.logDir ? live.state.profile.logDir : '<experiment folder>';
  return promptDialog('Experiment token needed',
    `${reason}. Paste the token from ${folder}/db/token on the machine that runs the experiment; `
    + 'it is kept for this browser tab only.', { password: true, confirmLabel: 'Use token' });
}

async function boot() {
  redirectLegacyPath();
  // the trials page needs the digest and its first table page: ask for them while the state loads
  if (parseRoute().name === 'trials') {
    live.loadDigest();
    prefetchTrials();
  }
  setTokenProvider(askToken);
  const select = document.getElementById('refresh-interval');
  live.on('state', renderHeader);
  live.on('state', () => {
    const banner = document.getElementById('banner');
    if (banner.classList.contains('warn')) banner.hidden = true;
  });
  live.on('error', renderReachability);
  live.on('polled', renderReachability);
  live.on('tick', renderReachability);
  select.addEventListener('change', () => live.setInterval(Number(select.value)));
  window.addEventListener('hashchange', route);
  await live.start();
  select.value = String(live.interval);
  if (!live.state) {
    setChildren(pageHost, h('div.empty', h('h2', 'Cannot reach the NNI manager'),
      h('p', live.lastError ? live.lastError.message : 'no answer'),
      h('p.muted', 'The page retries on its own.')));
    const stop = live.on('state', () => {
      stop();
      route();
    });
    return;
  }
  await route();
}

boot();
