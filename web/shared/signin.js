// signin.js - the staff pages' sign-in form (the KB editor's and the agent
// console's): e-mail and password, the API's errors said in words, the
// session's CSRF token kept for the writes that follow. Each page words its
// own card around it and passes its own field() so the form looks like the
// rest of that page.

import { auth, setCsrfToken } from './http.js';
import { button, h, notice } from './dom.js';

// signInForm(onDone, { field, compact }) → <form>. field(label, control)
// returns the labelled control's element; onDone(user) runs after a good
// sign-in; compact (a dialog) leaves the focus where the caller puts it.
export function signInForm(onDone, { field, compact = false }) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const err = h('div', { class: 'form-error' });
  const submit = button('Sign in', null, { kind: 'primary', type: 'submit' });
  const form = h('form', { class: 'signin-form', novalidate: true }, field('E-mail', email),
    field('Password', password), err, h('div', { class: 'form-actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.replaceChildren();
    if (!email.value.trim() || !password.value) {
      err.append(notice('error', 'Enter your e-mail and password.'));
      (email.value.trim() ? password : email).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      const r = await auth.login(email.value.trim(), password.value);
      setCsrfToken(r.csrf_token);
      password.value = '';
      await onDone(r.user);
    } catch (e2) {
      let msg = e2.message;
      if (e2.code === 'invalid_credentials') msg = 'That e-mail and password do not match an active account.';
      else if (e2.code === 'rate_limited') msg = `Too many failed sign-ins. Try again in ${e2.retryAfter || 30} seconds.`;
      err.append(notice('error', msg));
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = 'Sign in';
    }
  });
  if (!compact) queueMicrotask(() => email.focus());
  return form;
}

// The sign-in page: a card with its title, a line on what the account needs,
// and the form.
export function signInPage(title, lead, form) {
  return h('div', { class: 'signin-page' },
    h('section', { class: 'signin-card', 'aria-labelledby': 'signin-title' },
      h('h1', { id: 'signin-title' }, title), h('p', { class: 'muted' }, lead), form));
}

// The page for an account signed in without the role this page needs: what
// is missing, and a way to sign out (the caller focuses its h1 once shown).
export function noRolePage(title, message, onSignOut) {
  return h('div', { class: 'signin-page' },
    h('section', { class: 'signin-card', 'aria-labelledby': 'norole-title' },
      h('h1', { id: 'norole-title', tabindex: '-1' }, title),
      notice('warn', message),
      h('div', { class: 'form-actions' }, button('Sign out', onSignOut, { kind: 'primary' }))));
}
