// view-window.js - a channel's reply window in the conversation view
// (docs/agents.md, "The reply window"). WhatsApp takes free-form replies
// only within 24 hours of the customer's last message: once the window is
// closed the agent is told so before typing, the reply box is disabled,
// and an approved template (GET …/templates) can be sent instead, its
// parameters filled in. Inside the window nothing shows.

import { agent } from './api.js';
import { button, clientId, field, h, notice, select, toast } from './dom.js';

export function windowPanel(id, { onSent }) {
  const el = h('section', { class: 'reply-window', hidden: true, 'aria-label': 'Reply window' });
  let templates = null; // loaded once the window is seen closed
  let loading = null;
  let closedShown = false;
  let timer = null;

  async function loadTemplates() {
    if (!loading) loading = agent.templates(id).then((r) => { templates = r.templates || []; })
      .catch((e) => { loading = null; throw e; });
    return loading;
  }

  function picker() {
    if (!templates.length)
      return h('p', { class: 'muted' }, 'No templates are configured for this channel.');
    const choose = select(templates.map((t) => [t.name, `${t.name} (${t.language})`]), templates[0].name, { name: 'template' });
    const params = h('div', { class: 'template-params' });
    const preview = h('p', { class: 'template-preview' });
    const err = h('div', { class: 'compose-error' });
    const sendBtn = button('Send template', null, { kind: 'primary', type: 'submit' });
    const current = () => templates.find((t) => t.name === choose.value) || templates[0];
    const values = () => [...params.querySelectorAll('input')].map((i) => i.value.trim());
    function fill() {
      const t = current();
      const v = values();
      preview.textContent = t.text.replace(/\{\{(\d+)\}\}/g, (m, n) => v[n - 1] || m);
    }
    function paramInputs() {
      const t = current();
      params.replaceChildren(...Array.from({ length: t.params || 0 }, (_, i) =>
        field(`Parameter ${i + 1}`, h('input', { type: 'text', name: `param${i + 1}`, required: true, on: { input: fill } }))));
      fill();
    }
    choose.addEventListener('change', paramInputs);
    paramInputs();
    const cid = { value: clientId() }; // one send per filled-in form, retried safely
    return h('form', { class: 'template-form', on: { submit: async (e) => {
      e.preventDefault();
      err.replaceChildren();
      sendBtn.disabled = true;
      try {
        await agent.reply(id, { template: current().name, params: values(), client_id: cid.value });
        cid.value = clientId();
        toast('Template sent.');
        for (const i of params.querySelectorAll('input')) i.value = '';
        fill();
        onSent();
      } catch (x) {
        err.append(notice('error', `Not sent: ${x.message}`));
      } finally {
        sendBtn.disabled = false;
      }
    } } }, field('Template', choose), params, h('p', { class: 'hint' }, 'The customer receives:'), preview, err,
    h('div', { class: 'compose-actions' }, sendBtn));
  }

  // conv: the conversation as the API gave it; canReply: the agent may reply now.
  // Returns whether free-form replies are refused (the box is then disabled).
  function update(conv, canReply) {
    clearTimeout(timer);
    const w = conv && conv.reply_window;
    const closed = !!(w && canReply && (!w.open || (w.closes_at && w.closes_at <= Date.now())));
    // Re-check when the window closes while the agent looks at it.
    if (w && w.open && w.closes_at) timer = setTimeout(() => onSent(), Math.min(2 ** 31 - 1, Math.max(0, w.closes_at - Date.now()) + 500));
    el.hidden = !closed;
    if (!closed) {
      closedShown = false;
      el.replaceChildren();
      return false;
    }
    if (closedShown) return true;
    closedShown = true;
    const head = notice('warn', h('strong', {}, 'The 24-hour window is closed: only an approved template can be sent.'),
      ' The customer has not written for over 24 hours; a free-form reply would be refused. When they answer, the window opens again.');
    el.replaceChildren(head, h('p', { class: 'muted' }, 'Loading the templates…'));
    loadTemplates().then(() => {
      if (closedShown) el.replaceChildren(head, picker());
    }).catch((e) => {
      if (closedShown) el.replaceChildren(head, notice('error', `The templates could not be loaded: ${e.message}`));
    });
    return true;
  }

  return { el, update, leave: () => clearTimeout(timer) };
}
