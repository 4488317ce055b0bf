// Modal dialogs on the native <dialog> element (focus trapping and Esc come for free).

import { h } from './dom.js';

function open(dialog) {
  document.body.appendChild(dialog);
  dialog.showModal();
  dialog.addEventListener('close', () => dialog.remove());
  return dialog;
}

/** Ask a yes/no question; resolves true when confirmed. */
export function confirmDialog(title, message, { confirmLabel = 'OK', danger = false } = {}) {
  return new Promise((resolve) => {
    let answer = false;
    const dialog = h('dialog.modal', { 'aria-label': title },
      h('form', { method: 'dialog' },
        h('h2', title),
        h('p', message),
        h('div.actions',
          h('button.btn', { value: 'cancel', type: 'submit' }, 'Cancel'),
          h('button.btn', { class: danger ? 'danger' : 'primary', value: 'ok', type: 'submit',
            onclick: () => { answer = true; } }, confirmLabel))));
    dialog.addEventListener('close', () => resolve(answer));
    open(dialog);
    dialog.querySelector('button[value="ok"]').focus();
  });
}

/**
 * A dialog with a text field or area; resolves with the text, or null when canceled.
 * `validate(text)` returns an error message or '' to accept.
 */
export function promptDialog(title, message, { initial = '', multiline = false, placeholder = '', confirmLabel = 'OK',
  validate = () => '', password = false } = {}) {
  return new Promise((resolve) => {
    let result = null;
    const field = multiline
      ? h('textarea.code', { rows: 14, spellcheck: 'false', placeholder })
      : h('input', { type: password ? 'password' : 'text', placeholder, autocomplete: 'off' });
    field.value = initial;
    const problem = h('p.error-text', { role: 'alert' });
    const form = h('form', { method: 'dialog' },
      h('h2', title),
      message ? h('p', message) : null,
      field,
      problem,
      h('div.actions',
        h('button.btn', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
        h('button.btn.primary', { type: 'submit', value: 'ok' }, confirmLabel)));
    const dialog = h('dialog.modal', { class: multiline ? 'wide' : '', 'aria-label': title }, form);
    form.addEventListener('submit', (event) => {
      const error = validate(field.value);
      if (error) {
        event.preventDefault();
        problem.textContent = error;
        return;
      }
      result = field.value;
    });
    dialog.addEventListener('close', () => resolve(result));
    open(dialog);
    field.focus();
  });
}

/** Show a block of text (read-only) with a copy button. */
export function textDialog(title, text, { onCopy } = {}) {
  const area = h('textarea.code', { rows: 14, readonly: true, spellcheck: 'false' });
  area.value = text;
  const dialog = h('dialog.modal.wide', { 'aria-label': title },
    h('form', { method: 'dialog' },
      h('h2', title),
      area,
      h('div.actions',
        onCopy ? h('button.btn', { type: 'button', onclick: () => onCopy(text) }, 'Copy') : null,
        h('button.btn.primary', { type: 'submit' }, 'Close'))));
  open(dialog);
  area.select();
  return dialog;
}

/** A dialog around arbitrary content; returns {dialog, close}. */
export function contentDialog(title, content, { wide = true } = {}) {
  const dialog = h('dialog.modal', { class: wide ? 'wide xl' : '', 'aria-label': title },
    h('div.modal-head', h('h2', title),
      h('button.btn.icon', { type: 'button', 'aria-label': 'close', onclick: () => dialog.close() }, '×')),
    content);
  open(dialog);
  return { dialog, close: () => dialog.close() };
}
