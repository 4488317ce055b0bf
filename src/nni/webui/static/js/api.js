// HTTP access to the manager's REST API.
//
// Every URL is relative to the document's <base>, which the manager sets to the portal's root,
// so the portal works under any --url-prefix. Conditional GETs keep the last body per URL and
// send If-None-Match themselves: with cache 'no-store' the browser hands us the 304 as is, so an
// unchanged poll costs neither a download nor a JSON parse.

export const API_ROOT = new URL('api/v1/nni/', document.baseURI);

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const TOKEN_KEY = `nni-token:${document.baseURI}`;
let tokenProvider = null;
const conditionalCache = new Map();

/** Install the function that asks the user for the experiment token (a dialog). */
export function setTokenProvider(provider) {
  tokenProvider = provider;
}

export function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function storeToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage can be disabled; the token then lasts for this request only
  }
}

export function apiUrl(path, query) {
  const url = new URL(path.replace(/^\//, ''), API_ROOT);
  if (query) {
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value));
    }
    url.searchParams.sort(); // one URL per query, whatever order the caller listed it in
  }
  return url.toString();
}

const prefetched = new Map();

/**
 * Start a GET now that a page will make once its code has loaded; the page's getJson for the
 * same URL then takes this response instead of asking again. Saves a round trip on first load.
 */
export function prefetchJson(path, query) {
  const url = apiUrl(path, query);
  if (prefetched.has(url)) return;
  const request = fetch(url, { cache: 'no-store' }).then(async (response) => {
    if (!response.ok) throw await errorOf(response);
    return parseBody(await response.text());
  });
  request.catch(() => {}); // a failure is reported to the caller that consumes it
  prefetched.set(url, request);
}

/** URL of a file under the portal root (logs), outside the REST API. */
export function rootUrl(path) {
  return new URL(path.replace(/^\//, ''), document.baseURI).toString();
}

async function errorOf(response) {
  let message = `${response.status} ${response.statusText}`;
  try {
    const text = await response.text();
    if (text) {
      try {
        const body = JSON.parse(text);
        if (body && typeof body.error === 'string') message = body.error;
        else message = text.slice(0, 500);
      } catch {
        message = text.slice(0, 500);
      }
    }
  } catch {
    // keep the status line
  }
  return new ApiError(response.status, message);
}

function parseBody(text) {
  if (!text) return null;
  const data = JSON.parse(text);
  // NNI answers some failures with 200 and an {"error": ...} body
  if (data && typeof data === 'object' && !Array.isArray(data) && typeof data.error === 'string'
      && Object.keys(data).length === 1) {
    throw new ApiError(200, data.error);
  }
  return data;
}

/**
 * GET a JSON document. With `conditional`, returns {data, changed}; `changed` is false when the
 * server answered 304 and `data` is the copy from the previous call.
 */
export async function getJson(path, query, { conditional = false, signal } = {}) {
  const url = apiUrl(path, query);
  if (!conditional && prefetched.has(url)) {
    const early = prefetched.get(url);
    prefetched.delete(url);
    return early;
  }
  const headers = {};
  const cached = conditional ? conditionalCache.get(url) : undefined;
  if (cached) headers['If-None-Match'] = cached.etag;
  const response = await fetch(url, { headers, cache: 'no-store', signal });
  if (response.status === 304 && cached) return { data: cached.data, changed: false };
  if (!response.ok) throw await errorOf(response);
  const data = parseBody(await response.text());
  const etag = response.headers.get('ETag');
  if (conditional && etag) {
    conditionalCache.set(url, { etag, data });
    // a long session visits many URLs (table pages, trials); keep the cache small
    if (conditionalCache.size > 64) conditionalCache.delete(conditionalCache.keys().next().value);
  }
  return conditional ? { data, changed: true } : data;
}

export async function getText(path) {
  const response = await fetch(apiUrl(path), { cache: 'no-store' });
  if (!response.ok) throw await errorOf(response);
  return response.text();
}

/**
 * A mutating call (PUT/POST/DELETE). A 403 from a manager that listens beyond loopback asks the
 * user for the experiment token once and retries with it.
 */
export async function send(method, path, { query, body } = {}) {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const headers = { 'Content-Type': 'application/json' };
    const token = storedToken();
    if (token) headers['X-NNI-Token'] = token;
    const response = await fetch(apiUrl(path, query), {
      method, headers, cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 403 && attempt === 0 && tokenProvider) {
      const error = await errorOf(response);
      if (!/token/i.test(error.message)) throw error;
      const given = await tokenProvider(error.message);
      if (!given) throw error;
      storeToken(given);
      continue;
    }
    if (!response.ok) throw await errorOf(response);
    return parseBody(await response.text());
  }
  throw new ApiError(403, 'the experiment token was refused');
}
