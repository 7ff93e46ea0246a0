// Every page of the portal, as each kind of visitor sees it: a language, a
// title, one main heading, a name for every form control (in the DOM and in
// the browser's accessibility tree), WCAG AA text contrast, and no script
// error (the CSP forbids inline scripts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, login, unlabelledControls, lowContrastText, USERS } from '../lib/ciel.mjs';

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
    for (const path of ['/espace-client', '/espace-client/users', userHref, '/espace-client/audit', '/account']) {
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
    const problems = [];
    for (const path of ['/back-office', orgHref, '/back-office/staff', '/back-office/audit', '/back-office/messages', '/account']) {
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
