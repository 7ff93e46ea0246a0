// Logging in and out: the error on a wrong password, keyboard-only login,
// logout ending the session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, login, USERS, ORG_A, DEMO_PASSWORD } from '../lib/ciel.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('a wrong password shows the error next to the form and keeps the address', async () => {
  const { context, page, errors } = await newPage(browser);
  try {
    await page.goto('/espace-client');
    assert.match(new URL(page.url()).pathname, /^\/login$/, 'an anonymous visitor is sent to /login');
    await page.getByLabel('Adresse e-mail', { exact: true }).fill(USERS.userA);
    await page.getByLabel('Mot de passe', { exact: true }).fill('not-the-password-1');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/login') && r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Se connecter' }).click(),
    ]);
    assert.equal(res.status(), 401);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal((await alert.textContent()).trim(), 'Adresse e-mail ou mot de passe incorrect.');
    assert.equal(await page.getByLabel('Adresse e-mail', { exact: true }).inputValue(), USERS.userA);
    assert.equal(await page.getByLabel('Mot de passe', { exact: true }).inputValue(), '', 'the password is not echoed back');
    const cookies = await context.cookies();
    assert.ok(!cookies.some((c) => c.name === 'ciel_session' && c.value), 'no session after a failed login');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('an Administrator logs in, lands in the client space, and the session cookie is HttpOnly', async () => {
  const { context, page, errors } = await newPage(browser);
  try {
    await page.goto('/espace-client/users');
    assert.equal(new URL(page.url()).pathname, '/login');
    await page.getByLabel('Adresse e-mail', { exact: true }).fill(USERS.adminA);
    await page.getByLabel('Mot de passe', { exact: true }).fill(DEMO_PASSWORD);
    await Promise.all([
      page.waitForURL((u) => u.pathname !== '/login'),
      page.getByRole('button', { name: 'Se connecter' }).click(),
    ]);
    // The ?next= of the login page brings the user back where they were going.
    assert.equal(new URL(page.url()).pathname, '/espace-client/users');
    await page.getByRole('heading', { level: 1, name: `Utilisateurs — ${ORG_A}` }).waitFor();
    await page.getByRole('link', { name: 'Espace Client' }).click();
    await page.getByRole('heading', { level: 1, name: `Espace Client — ${ORG_A}` }).waitFor();
    const session = (await context.cookies()).filter((c) => c.httpOnly && c.value);
    assert.ok(session.length > 0, 'an HttpOnly session cookie is set');
    for (const c of session) assert.ok(['Lax', 'Strict'].includes(c.sameSite), `${c.name} is SameSite`);
    assert.deepEqual(errors, [], 'no console or CSP error');
  } finally {
    await context.close();
  }
});

test('login works with the keyboard only (Tab, typing, Enter)', async () => {
  const { context, page } = await newPage(browser);
  try {
    await page.goto('/login');
    // The first Tab reaches the skip link, which is then visible.
    await page.keyboard.press('Tab');
    const first = await page.evaluate(() => ({
      text: document.activeElement.textContent.trim(),
      href: document.activeElement.getAttribute('href'),
      left: document.activeElement.getBoundingClientRect().left,
    }));
    assert.equal(first.href, '#main', 'the first stop is the skip link');
    assert.ok(first.left >= 0, 'the focused skip link is on screen');
    // Tab on until the e-mail field has the focus: it must be reachable.
    let reached = false;
    for (let i = 0; i < 15 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.id === 'email');
    }
    assert.ok(reached, 'the e-mail field is reachable with Tab');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none', 'the focused field shows a focus ring');
    await page.keyboard.type(USERS.userA);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'password', 'Tab goes from e-mail to password');
    await page.keyboard.type(DEMO_PASSWORD);
    await Promise.all([page.waitForURL('**/espace-client'), page.keyboard.press('Enter')]);
    await page.getByRole('heading', { level: 1, name: `Espace Client — ${ORG_A}` }).waitFor();
  } finally {
    await context.close();
  }
});

test('logout ends the session', async () => {
  const { context, page } = await newPage(browser);
  try {
    await login(page, USERS.userA);
    await page.getByRole('heading', { level: 1, name: /^Espace Client/ }).waitFor();
    await Promise.all([page.waitForURL('**/login'), page.getByRole('button', { name: 'Se déconnecter' }).click()]);
    await page.getByRole('button', { name: 'Se connecter' }).waitFor();
    // The old session no longer opens the client space, nor the API.
    await page.goto('/espace-client');
    assert.equal(new URL(page.url()).pathname, '/login');
    const api = await page.request.get('/api/v1/me');
    assert.equal(api.status(), 401);
  } finally {
    await context.close();
  }
});
