// Password reset by e-mail. Uses Lucas Bernard (client C), whom no other test
// logs in as, because it changes his password.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, login, waitForMail, findLink, USERS, CIEL_URL } from '../lib/ciel.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('a user resets a forgotten password from the e-mailed link', async () => {
  const password = 'nouvelle phrase de passe pour Lucas';
  const { context, page, errors } = await newPage(browser);
  try {
    await page.goto('/login');
    await page.getByRole('link', { name: 'Mot de passe oublié ?' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mot de passe oublié' }).waitFor();
    await page.getByLabel('Adresse e-mail').fill(USERS.userC);
    await page.getByRole('button', { name: 'Envoyer le lien' }).click();
    await page.getByRole('heading', { level: 1, name: 'Vérifiez votre messagerie' }).waitFor();

    const [mail] = await waitForMail(USERS.userC, { subject: /Réinitialisation/ });
    const link = findLink(mail.text, '/password/reset/');
    assert.ok(link.startsWith(`${CIEL_URL}/password/reset/`));
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Choisissez un nouveau mot de passe' }).waitFor();
    await page.getByLabel('Nouveau mot de passe').fill(password);
    await page.getByLabel('Confirmez le mot de passe').fill(password);
    await page.getByRole('button', { name: 'Enregistrer le mot de passe' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mot de passe enregistré' }).waitFor();

    // The user is told by e-mail that the password changed.
    await waitForMail(USERS.userC, { subject: /modifié/ });

    // The old password no longer works; the new one does.
    await page.goto('/login');
    await page.getByLabel('Adresse e-mail', { exact: true }).fill(USERS.userC);
    await page.getByLabel('Mot de passe', { exact: true }).fill('ciel-demo-2026!');
    await page.getByRole('button', { name: 'Se connecter' }).click();
    await page.getByRole('alert').filter({ hasText: 'Adresse e-mail ou mot de passe incorrect.' }).waitFor();
    await login(page, USERS.userC, password);
    assert.equal(new URL(page.url()).pathname, '/espace-client');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test('an unknown address gets the same answer and no mail', async () => {
  const { context, page } = await newPage(browser);
  try {
    const nobody = 'nobody.here@clinique-du-parc.example';
    await page.goto('/password/forgot');
    await page.getByLabel('Adresse e-mail').fill(nobody);
    await page.getByRole('button', { name: 'Envoyer le lien' }).click();
    await page.getByRole('heading', { level: 1, name: 'Vérifiez votre messagerie' }).waitFor();
    await assert.rejects(waitForMail(nobody, { timeoutMs: 2000 }), /no mail/);
  } finally {
    await context.close();
  }
});
