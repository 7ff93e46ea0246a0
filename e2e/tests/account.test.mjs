// "Mon compte": an API token is shown once, works as a bearer token for the
// API, and stops working once revoked. Also the R1.8 warning when an
// Administrator invites a generic shared address.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'playwright-core';
import { launchBrowser, newPage, login, USERS, CIEL_URL } from '../lib/ciel.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('an API token is shown once, works as a bearer token, and is revoked from the page', async () => {
  const { context, page, errors } = await newPage(browser);
  const api = await request.newContext({ baseURL: CIEL_URL });
  try {
    await login(page, USERS.userB);
    await page.getByRole('navigation').getByRole('link', { name: 'Mon compte' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mon compte' }).waitFor();
    const name = `export comptable ${Date.now().toString(36)}`;
    await page.getByLabel('Nom du jeton (usage)').fill(name);
    await page.getByRole('button', { name: 'Créer un jeton' }).click();
    const secret = (await page.locator('#new-token').textContent()).trim();
    assert.ok(secret.length >= 20, 'the secret is shown');
    await page.getByText('Copiez ce jeton maintenant').waitFor();

    // A program without the browser's cookies calls the API with it.
    const auth = { Authorization: `Bearer ${secret}` };
    const meRes = await api.get('/api/v1/me', { headers: auth });
    assert.equal(meRes.status(), 200);
    assert.equal((await meRes.json()).email, USERS.userB);

    // Shown once: the next visit lists the token but not its secret.
    await page.goto('/account');
    const row = page.getByRole('row').filter({ hasText: name });
    await row.waitFor();
    assert.ok(!(await page.content()).includes(secret), 'the secret is never shown again');

    await row.getByRole('button', { name: 'Révoquer' }).click();
    await page.getByRole('row').filter({ hasText: name }).filter({ hasText: 'révoqué' }).waitFor();
    const after = await api.get('/api/v1/me', { headers: auth });
    assert.equal(after.status(), 401, 'a revoked token is refused');
    assert.match(after.headers()['content-type'], /application\/problem\+json/);
    assert.deepEqual(errors, []);
  } finally {
    await api.dispose();
    await context.close();
  }
});

test('inviting a generic shared address (contact@) shows the R1.8 warning', async () => {
  const { context, page, errors } = await newPage(browser);
  try {
    await login(page, USERS.adminA);
    await page.goto('/espace-client/users');
    const form = page.locator('form', { has: page.getByRole('heading', { name: 'Inviter un utilisateur' }) });
    const email = 'contact@atelier-numerique.example';
    await form.getByLabel('Nom', { exact: true }).fill('Accueil');
    await form.getByLabel('Adresse e-mail', { exact: true }).fill(email);
    await form.getByRole('button', { name: "Envoyer l'invitation" }).click();
    await page.getByRole('status').filter({ hasText: 'Invitation envoyée.' }).waitFor();
    await page.getByRole('alert').filter({ hasText: 'compte partagé' }).waitFor();
    const row = page.getByRole('row').filter({ hasText: email });
    // The badge says it to screen readers too, not only in a tooltip.
    await row.getByTitle('Compte générique').waitFor();
    assert.match(await row.textContent(), /Compte générique/);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
