// notify.js - getting the agent's attention: a short WebAudio beep and a
// desktop notification (when the agent allowed them, asked on a click) on a
// new offer or assignment, and the unread count in the page title.

let audio = null;
let baseTitle = 'Console';

// Called from a click: browsers only start audio and ask for notification
// permission after a user gesture.
export async function enableAlerts() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx && !audio) audio = new Ctx();
    if (audio && audio.state === 'suspended') await audio.resume();
  } catch {
    audio = null;
  }
  if ('Notification' in window && Notification.permission === 'default') {
    try {
      await Notification.requestPermission();
    } catch {
      // older browsers take a callback; nothing to do
    }
  }
  return alertsState();
}

export function alertsState() {
  return {
    sound: !!audio && audio.state === 'running',
    desktop: 'Notification' in window ? Notification.permission : 'unsupported',
  };
}

export function beep() {
  if (!audio || audio.state !== 'running') return false;
  const t = audio.currentTime;
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.type = 'sine';
  osc.frequency.setValueAtTime(880, t);
  osc.frequency.setValueAtTime(1175, t + 0.09);
  gain.gain.setValueAtTime(0.0001, t);
  gain.gain.exponentialRampToValueAtTime(0.15, t + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.22);
  osc.connect(gain).connect(audio.destination);
  osc.start(t);
  osc.stop(t + 0.24);
  return true;
}

// A beep and, when allowed and the page is not in front, a desktop notification.
export function alert(title, body, onClick) {
  beep();
  document.dispatchEvent(new CustomEvent('console-alert', { detail: { title, body } }));
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  try {
    const n = new Notification(title, { body, tag: 'switchboard-' + title });
    n.onclick = () => {
      window.focus();
      if (onClick) onClick();
      n.close();
    };
  } catch {
    // some platforms only allow notifications from a service worker
  }
}

export function setBaseTitle(t) {
  baseTitle = t;
}

export function showUnread(n) {
  document.title = (n > 0 ? `(${n}) ` : '') + baseTitle + ' · Switchboard';
}
