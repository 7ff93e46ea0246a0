// Shared helpers of the browser tests: the browser, logging in, the mailbox.
//
// run.sh exports CIEL_URL (the portal), MAILDIR (the Maildir the SMTP sink
// writes to) and E2E_RESULTS (where screenshots go).
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CIEL_URL = required('CIEL_URL');
export const MAILDIR = required('MAILDIR');
export const RESULTS =
  process.env.E2E_RESULTS ||
  path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test-results');
export const DEMO_PASSWORD = 'ciel-demo-2026!';

// Demo accounts (see `ciel serve --demo`). Each test file uses the ones it
// needs; lucas.bernard (client C) is reserved for the password-reset test,
// which changes his password.
export const USERS = {
  staffAdmin: 'claire.morel@bytel-cloud.example',
  adminA: 'jeanne.martin@atelier-numerique.example',
  userA: 'paul.durand@atelier-numerique.example',
  adminB: 'sophie.laurent@transports-garonne.example',
  userB: 'karim.haddad@transports-garonne.example',
  userC: 'lucas.bernard@clinique-du-parc.example',
};
export const ORG_A = 'Atelier Numérique Lyonnais SAS';
export const ORG_B = 'Transports Garonne SA';

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the tests through e2e/run.sh`);
  return v;
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 30_000,
  });
}

/**
 * A fresh browser context (its own cookies) and a page in it. Console errors
 * and page errors (e.g. a script refused by the CSP) are collected in
 * `errors`.
 */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ baseURL: CIEL_URL, locale: 'fr-FR', ...options });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A 4xx page is expected in some tests; Chromium logs it as an error.
    if (m.type() === 'error' && !/Failed to load resource: .*status of 4\d\d/.test(m.text())) {
      errors.push(`console: ${m.text()}`);
    }
  });
  return { context, page, errors };
}

/**
 * Logs in through the form, as a person would (French or English page), and
 * waits to leave /login.
 */
export async function login(page, email, password = DEMO_PASSWORD) {
  await page.goto('/login');
  await page.getByLabel(/^(Adresse e-mail|E-mail address)$/).fill(email);
  await page.getByLabel(/^(Mot de passe|Password)$/).fill(password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.getByRole('button', { name: /^(Se connecter|Log in)$/ }).click(),
  ]);
}

/** A unique address for a user a test creates. */
export function uniqueEmail(prefix, domain = 'atelier-numerique.example') {
  const n = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  return `${prefix}.${n}@${domain}`;
}

export function screenshotPath(name) {
  fs.mkdirSync(RESULTS, { recursive: true });
  return path.join(RESULTS, `${name}.png`);
}

/** The id and organisation of the logged-in user of `page`, from the API. */
export async function me(page) {
  const res = await page.request.get('/api/v1/me');
  assert.equal(res.status(), 200, 'GET /api/v1/me');
  return res.json();
}

/** Calls the API with the page's session (and its CSRF token for writes). */
export async function api(page, method, path, data) {
  const csrf = await page.locator('input[name="_csrf"]').first().getAttribute('value');
  const res = await page.request.fetch(path, { method, data, headers: { 'x-csrf-token': csrf } });
  const body = await res.json().catch(() => null);
  return { status: res.status(), body };
}

/** `minutes` from now as a `datetime-local` value in Paris time. */
export function parisLocal(minutes) {
  const d = new Date(Date.now() + minutes * 60_000);
  const s = new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Europe/Paris',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).format(d);
  return s.replace(' ', 'T');
}

// ---------------------------------------------------------------- mail

/** Decodes quoted-printable text to bytes. */
export function decodeQuotedPrintable(text) {
  const soft = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** Decodes RFC 2047 encoded words in a header value. */
export function decodeHeader(value) {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, charset, enc, data) => {
      const buf =
        enc.toUpperCase() === 'B'
          ? Buffer.from(data, 'base64')
          : decodeQuotedPrintable(data.replace(/_/g, ' '));
      return new TextDecoder(charset.toLowerCase()).decode(buf);
    });
}

function splitMessage(raw) {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : '';
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) {
      const k = line.slice(0, i).trim().toLowerCase();
      const v = line.slice(i + 1).trim();
      headers[k] = headers[k] ? `${headers[k]}, ${v}` : v;
    }
  }
  return { headers, body };
}

function decodeBody(headers, body) {
  const cte = (headers['content-transfer-encoding'] || '7bit').toLowerCase();
  const charset = /charset="?([^";]+)"?/i.exec(headers['content-type'] || '')?.[1] || 'utf-8';
  let bytes;
  if (cte === 'quoted-printable') bytes = decodeQuotedPrintable(body);
  else if (cte === 'base64') bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  else bytes = Buffer.from(body, 'latin1');
  return new TextDecoder(charset.toLowerCase()).decode(bytes);
}

/** Text parts of a (possibly multipart) message, decoded. */
function textParts(headers, body) {
  const type = headers['content-type'] || 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const parts = body.split(`--${boundary}`).slice(1);
    return parts
      .filter((p) => !p.startsWith('--'))
      .flatMap((p) => {
        const sub = splitMessage(p.replace(/^\r?\n/, ''));
        return textParts(sub.headers, sub.body);
      });
  }
  if (/^text\//i.test(type)) return [{ type: type.split(';')[0].toLowerCase(), text: decodeBody(headers, body) }];
  return [];
}

/** Parses one stored message: envelope recipients, subject, plain text. */
export function parseMail(raw) {
  const { headers, body } = splitMessage(raw);
  const parts = textParts(headers, body);
  const plain = parts.find((p) => p.type === 'text/plain') || parts[0];
  return {
    headers,
    // aiosmtpd's Mailbox handler records the SMTP envelope in X-RcptTo.
    rcptTo: (headers['x-rcptto'] || '').toLowerCase(),
    to: decodeHeader(headers.to || ''),
    subject: decodeHeader(headers.subject || ''),
    text: plain ? plain.text : '',
    parts,
  };
}

function readMailbox() {
  const out = [];
  for (const sub of ['new', 'cur']) {
    const dir = path.join(MAILDIR, sub);
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir)) {
      const file = path.join(dir, f);
      try {
        const st = fs.statSync(file);
        out.push({ file, mtime: st.mtimeMs, ...parseMail(fs.readFileSync(file, 'latin1')) });
      } catch {
        // a message being written: seen on the next poll
      }
    }
  }
  return out.sort((a, b) => a.mtime - b.mtime);
}

/**
 * Waits (bounded) until `count` messages addressed to `to` whose subject
 * matches `subject` (a RegExp, optional) are in the mailbox; returns them,
 * oldest first.
 */
export async function waitForMail(to, { subject, count = 1, timeoutMs = 15_000 } = {}) {
  const want = to.toLowerCase();
  const deadline = Date.now() + timeoutMs;
  let found = [];
  for (;;) {
    found = readMailbox().filter(
      (m) => (m.rcptTo.includes(want) || m.to.toLowerCase().includes(want)) && (!subject || subject.test(m.subject)),
    );
    if (found.length >= count) return found;
    if (Date.now() > deadline) {
      throw new Error(`no mail${subject ? ` matching ${subject}` : ''} to ${to} after ${timeoutMs} ms (found ${found.length})`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** The first link in `text` whose path starts with `prefix`. */
export function findLink(text, prefix) {
  const re = new RegExp(`https?://[^\\s<>"]+${prefix.replace(/[/]/g, '\\/')}[A-Za-z0-9_\\-.~%]+`);
  const m = re.exec(text);
  assert.ok(m, `no ${prefix} link in the mail:\n${text}`);
  return m[0];
}

// ------------------------------------------------------------- checks

/** The page's document is not wider than its viewport (no horizontal scroll). */
export async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const d = document.documentElement;
    const widest = [...document.querySelectorAll('body *')]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        // Inside a scrolling table wrapper only what escapes it counts.
        const escapes = !el.closest('.table-wrap') || ['absolute', 'fixed'].includes(getComputedStyle(el).position);
        return r.width > 0 && r.right > d.clientWidth + 1 && escapes;
      })
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className ? `.${String(el.className).replace(/\s+/g, '.')}` : ''} right=${Math.round(el.getBoundingClientRect().right)}`);
    return { scrollWidth: d.scrollWidth, clientWidth: d.clientWidth, widest };
  });
}

/**
 * Visible form controls with no accessible name: checked both in the DOM
 * (label[for], wrapping label, aria-label, aria-labelledby) and in the
 * browser's accessibility tree (Playwright's aria snapshot).
 */
export async function unlabelledControls(page) {
  const domProblems = await page.evaluate(() => {
    const visible = (el) => {
      const s = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      return s.visibility !== 'hidden' && s.display !== 'none' && r.width > 0 && r.height > 0;
    };
    const out = [];
    for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
      if (!visible(el)) continue;
      const labelled =
        (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)?.textContent.trim()) ||
        el.closest('label')?.textContent.trim() ||
        el.getAttribute('aria-label')?.trim() ||
        (el.getAttribute('aria-labelledby') || '')
          .split(/\s+/)
          .map((id) => document.getElementById(id)?.textContent.trim())
          .filter(Boolean)
          .join(' ');
      if (!labelled) out.push(el.outerHTML.slice(0, 120));
    }
    for (const el of document.querySelectorAll('button, a[href]')) {
      if (visible(el) && !(el.textContent.trim() || el.getAttribute('aria-label'))) out.push(el.outerHTML.slice(0, 120));
    }
    return out;
  });
  const tree = await page.locator('body').ariaSnapshot();
  const treeProblems = tree
    .split('\n')
    .filter((l) => /^\s*- (textbox|combobox|checkbox|radio|button|link|spinbutton|searchbox)\s*(\[.*\])?:?\s*$/.test(l));
  return [...domProblems, ...treeProblems.map((l) => `unnamed in the accessibility tree: ${l.trim()}`)];
}

/**
 * Text whose contrast against its background is below WCAG AA (4.5:1, or
 * 3:1 for large text). Backgrounds are found by walking up to the first
 * opaque ancestor.
 */
export async function lowContrastText(page) {
  return page.evaluate(() => {
    const parse = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const [r, g, b, a = 1] = m[1].split(/[,\s/]+/).filter(Boolean).map(Number);
      return { r, g, b, a };
    };
    const lum = ({ r, g, b }) => {
      const f = (v) => {
        v /= 255;
        return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = parse(getComputedStyle(e).backgroundColor);
        if (c && c.a > 0.5) return c;
      }
      return { r: 255, g: 255, b: 255, a: 1 };
    };
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!n.textContent.trim() || seen.has(el)) continue;
      seen.add(el);
      const s = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      if (s.visibility === 'hidden' || r.width < 2 || r.height < 2 || el.closest('.sr-only, .skip, option')) continue;
      const fg = parse(s.color);
      const bg = background(el);
      const l1 = lum(fg);
      const l2 = lum(bg);
      const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
      const size = parseFloat(s.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(s.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) {
        out.push(`${el.tagName.toLowerCase()} "${n.textContent.trim().slice(0, 40)}" ratio ${ratio.toFixed(2)} (${s.color} on rgb(${bg.r}, ${bg.g}, ${bg.b}))`);
      }
    }
    return out;
  });
}
