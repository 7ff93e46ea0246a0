// Every page of the portal, as each kind of visitor sees it: a language, a
// title, one main heading, a name for every form control (in the DOM and in
// the browser's accessibility tree), WCAG AA text contrast, and no script
// error (the CSP forbids inline scripts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, login, unlabelledControls, lowContrastText, USERS, ORG_A } from '../lib/ciel.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

async function checkPage(page, errors, path, expectStatus = 200) {
  const res = await page.goto(path);
  assert.equal(res.status(), expectStatus, `${path} status`);
  const problems = [];
  const lang = await page.locator('html').getAttribute('lang');
  if (!['fr', 'en'].includes(lang)) problems.push(`html lang="${lang}"`);
  const title = await page.title();
  if (!/\S · ciel$/.test(title)) problems.push(`title "${title}"`);
  const h1 = await page.locator('h1').count();
  if (h1 !== 1) problems.push(`${h1} h1`);
  if ((await page.locator('main#main').count()) !== 1) problems.push('no main#main for the skip link');
  problems.push(...(await unlabelledControls(page)).map((p) => `unlabelled: ${p}`));
  problems.push(...(await lowContrastText(page)).map((p) => `contrast: ${p}`));
  // ids are unique (a label[for] must point at one control).
  const dupIds = await page.evaluate(() => {
    const seen = new Map();
    for (const el of document.querySelectorAll('[id]')) seen.set(el.id, (seen.get(el.id) || 0) + 1);
    return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  });
  problems.push(...dupIds.map((id) => `duplicate id ${id}`));
  problems.push(...errors.splice(0));
  return problems.map((p) => `${path}: ${p}`);
}

test('pages for an anonymous visitor are labelled, contrasted and titled', async () => {
  const { context, page, errors } = await newPage(browser);
  try {
    const problems = [];
    for (const path of ['/login', '/password/forgot']) problems.push(...(await checkPage(page, errors, path)));
    problems.push(...(await checkPage(page, errors, '/invitation/not-a-real-token', 410)));
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('client space pages (Administrator) are labelled, contrasted and titled', async () => {
  const { context, page, errors } = await newPage(browser);
  try {
    await login(page, USERS.adminA);
    await page.goto('/espace-client/users');
    const userHref = await page.getByRole('link', { name: 'Paul Durand' }).getAttribute('href');
    const problems = [];
    for (const path of ['/espace-client', '/espace-client/users', userHref, '/espace-client/audit', '/espace-client/colocation', '/account']) {
      problems.push(...(await checkPage(page, errors, path)));
    }
    problems.push(...(await checkPage(page, errors, '/espace-client/users/00000000000000000000000000', 404)));
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('back office pages are labelled, contrasted and titled', async () => {
  const { context, page, errors } = await newPage(browser);
  try {
    await login(page, USERS.staffAdmin);
    await page.goto('/back-office');
    const orgHref = await page.locator('main table a').first().getAttribute('href');
    // A client organisation's order form (the first listed may be the provider).
    const clientHref = await page.getByRole('link', { name: ORG_A }).getAttribute('href');
    const problems = [];
    for (const path of ['/back-office', orgHref, `${clientHref}/orders/new`, '/back-office/price-lists', '/back-office/staff', '/back-office/audit', '/back-office/messages', '/back-office/colocation', '/back-office/colocation/PA3', '/account']) {
      problems.push(...(await checkPage(page, errors, path)));
    }
    await page.goto(orgHref);
    const userHref = await page.locator('main table a').first().getAttribute('href');
    problems.push(...(await checkPage(page, errors, userHref)));
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('the error and flash messages are announced and contrasted', async () => {
  const { context, page, errors } = await newPage(browser);
  try {
    await login(page, USERS.adminA);
    // A flash after creating an API token, and the token shown once.
    await page.goto('/account');
    await page.getByLabel('Nom du jeton (usage)').fill('e2e contrast check');
    await page.getByRole('button', { name: 'Créer un jeton' }).click();
    await page.getByRole('status').first().waitFor();
    const problems = (await lowContrastText(page)).map((p) => `/account flash: ${p}`);
    // A validation error next to the invite form.
    await page.goto('/espace-client/users');
    const form = page.locator('form', { has: page.getByRole('heading', { name: 'Inviter un utilisateur' }) });
    await form.getByLabel('Nom', { exact: true }).fill('Compte partagé');
    await form.getByLabel('Adresse e-mail', { exact: true }).fill('not-an-address@');
    await form.evaluate((f) => f.setAttribute('novalidate', ''));
    await form.getByRole('button', { name: "Envoyer l'invitation" }).click();
    await page.getByRole('alert').first().waitFor();
    problems.push(...(await lowContrastText(page)).map((p) => `/espace-client/users error: ${p}`));
    problems.push(...(await unlabelledControls(page)));
    problems.push(...errors);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

/**
 * Tabs through the whole page: every control that can be used is reached,
 * in the document's order, and shows a visible focus indicator.
 */
async function tabThrough(page, path) {
  await page.goto(path);
  const expected = await page.evaluate(() =>
    [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')]
      .filter((el) => !el.disabled && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden')
      .length,
  );
  const problems = [];
  const reached = [];
  for (let i = 0; i < expected + 5; i++) {
    await page.keyboard.press('Tab');
    const f = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const s = getComputedStyle(el);
      const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none';
      const label = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${(el.textContent || el.name || '').trim().slice(0, 30)}"`;
      el.dataset.e2eSeen = '1';
      return { ring, label };
    });
    if (!f) break;
    if (reached.includes(f.label) && reached[0] === f.label) break;
    reached.push(f.label);
    if (!f.ring) problems.push(`${path}: no visible focus on ${f.label}`);
  }
  const missed = await page.evaluate(() =>
    [...document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')]
      .filter((el) => !el.disabled && el.getClientRects().length > 0 && !el.dataset.e2eSeen)
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  problems.push(...missed.map((m) => `${path}: not reachable with Tab: ${m}`));
  return problems;
}

test('every control is reachable with Tab and shows where the focus is', async () => {
  const anon = await newPage(browser);
  const admin = await newPage(browser);
  try {
    const problems = [];
    problems.push(...(await tabThrough(anon.page, '/login')));
    problems.push(...(await tabThrough(anon.page, '/password/forgot')));
    await login(admin.page, USERS.adminA);
    problems.push(...(await tabThrough(admin.page, '/espace-client/users')));
    problems.push(...(await tabThrough(admin.page, '/account')));
    assert.deepEqual(problems, []);
  } finally {
    await anon.context.close();
    await admin.context.close();
  }
});

test('English pages are labelled and contrasted too', async () => {
  const { context, page, errors } = await newPage(browser, { locale: 'en-GB' });
  try {
    const problems = [];
    for (const path of ['/login', '/password/forgot']) problems.push(...(await checkPage(page, errors, path)));
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

