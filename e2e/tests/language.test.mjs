// The language switch in the header: French by default, English on request,
// remembered by the browser and, for a logged-in user, in the profile.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, login, me, USERS, ORG_B } from '../lib/ciel.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

async function switchTo(page, code, button) {
  await page.getByLabel(/^(Langue|Language)$/).selectOption(code);
  await Promise.all([
    page.waitForEvent('framenavigated', (f) => f === page.mainFrame()),
    page.getByRole('button', { name: button }).click(),
  ]);
  await page.waitForLoadState('load');
  assert.equal(await page.locator('html').getAttribute('lang'), code);
}

test('an anonymous visitor switches the login page to English and back', async () => {
  const { context, page, errors } = await newPage(browser, { locale: 'fr-FR' });
  try {
    await page.goto('/login');
    assert.equal(await page.locator('html').getAttribute('lang'), 'fr', 'French by default');
    await page.getByRole('heading', { level: 1, name: 'Connexion' }).waitFor();
    await switchTo(page, 'en', 'Changer');
    assert.equal(new URL(page.url()).pathname, '/login', 'the switch stays on the page');
    await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
    await page.getByLabel('E-mail address').waitFor();
    assert.equal(await page.title(), 'Log in · ciel');
    // Remembered on the next page.
    await page.goto('/password/forgot');
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await page.getByRole('heading', { level: 1, name: 'Forgot your password' }).waitFor();
    await switchTo(page, 'fr', 'Change');
    await page.getByRole('heading', { level: 1, name: 'Mot de passe oublié' }).waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("the browser's preferred language is honoured before any choice", async () => {
  const { context, page } = await newPage(browser, { locale: 'en-GB' });
  try {
    await page.goto('/login');
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
    // An explicit choice wins over the browser's.
    await switchTo(page, 'fr', 'Change');
    await page.getByRole('heading', { level: 1, name: 'Connexion' }).waitFor();
  } finally {
    await context.close();
  }
});

test('a logged-in user switches to English; the portal and the profile follow', async () => {
  const { context, page, errors } = await newPage(browser);
  try {
    await login(page, USERS.userB);
    await page.getByRole('heading', { level: 1, name: `Espace Client — ${ORG_B}` }).waitFor();
    await switchTo(page, 'en', 'Changer');
    assert.equal(new URL(page.url()).pathname, '/espace-client');
    await page.getByRole('heading', { level: 1, name: `Client space — ${ORG_B}` }).waitFor();
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'My account' }).click();
    await page.getByRole('heading', { level: 1, name: 'My account' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    assert.equal((await me(page)).lang, 'en', 'the choice is saved in the profile (e-mails follow)');
    await switchTo(page, 'fr', 'Change');
    await page.getByRole('heading', { level: 1, name: 'Mon compte' }).waitFor();
    assert.equal((await me(page)).lang, 'fr');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
