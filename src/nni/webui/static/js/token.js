// The experiment token, for a manager that listens beyond loopback.
//
// Such a manager answers reads and edits from other machines only with the token (the file
// db/token in the experiment's folder). This module wraps window.fetch for same-origin
// requests: it sends the token it knows as X-NNI-Token, and when the manager answers 403 asking
// for the token it asks the user once (every request waiting shares that one question) and
// retries. The manager then sets an HttpOnly cookie, so links the page opens (logs, trial
// files) and later visits work without asking again. Imported first by main.js.

import { storedToken, storeToken } from './api.js';
import { promptDialog } from './dialog.js';

const nativeFetch = window.fetch.bind(window);
let question = null;

function targetUrl(input) {
  return new URL(input instanceof Request ? input.url : String(input), document.baseURI);
}

function withToken(input, init, token) {
  if (!token) return init;
  const headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
  if (!headers.has('X-NNI-Token')) headers.set('X-NNI-Token', token);
  return { ...init, headers };
}

async function tokenRequest(response) {
  try {
    const body = await response.clone().json();
    const message = body && typeof body.error === 'string' ? body.error : '';
    return /token/i.test(message) ? message : '';
  } catch {
    return '';
  }
}

/** Ask the user for the token; concurrent callers share one dialog. Resolves '' when canceled. */
export function askToken(reason) {
  if (!question) {
    question = promptDialog('Experiment token needed',
      `${reason}. It is kept in this browser for this manager.`,
      { password: true, confirmLabel: 'Use token', placeholder: 'token' })
      .then((given) => {
        const token = (given || '').trim();
        if (token) storeToken(token);
        return token;
      })
      .finally(() => {
        // a later refusal (a wrong token) may ask again
        setTimeout(() => { question = null; }, 0);
      });
  }
  return question;
}

window.fetch = async function fetchWithToken(input, init = {}) {
  if (targetUrl(input).origin !== window.location.origin) return nativeFetch(input, init);
  const response = await nativeFetch(input, withToken(input, init, storedToken()));
  if (response.status !== 403) return response;
  const reason = await tokenRequest(response);
  if (!reason) return response;
  const token = await askToken(reason);
  if (!token) return response;
  const headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
  headers.set('X-NNI-Token', token);
  return nativeFetch(input, { ...init, headers });
};
