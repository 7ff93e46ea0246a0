// The scenario of issue 2: an Administrator invites a user from the client
// space; the user sets a password from the e-mailed link and logs in; the
// user cannot see another organisation's pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchBrowser, newPage, login, me, waitForMail, findLink, uniqueEmail, unlabelledControls,
  screenshotPath, USERS, ORG_A, ORG_B, CIEL_URL,
} from '../lib/ciel.mjs';

let browser;
// Client B, as its own Administrator sees it through the API.
let orgB;
let userB;

before(async () => {
  browser = await launchBrowser();
  const { context, page } = await newPage(browser);
  try {
    await login(page, USERS.adminB);
    const self = await me(page);
    orgB = self.org_id;
    const res = await page.request.get(`/api/v1/organizations/${orgB}/users`);
    assert.equal(res.status(), 200, 'B lists its users');
    const users = (await res.json()).items;
    userB = users.find((u) => u.email === USERS.userB);
    assert.ok(userB, `${USERS.userB} is a user of B`);
  } finally {
    await context.close();
  }
});
after(async () => {
  await browser?.close();
});

/**
 * What a page of organisation B must never show to organisation A. B's user
 * id may appear only where the visitor typed it: the address (echoed in the
 * language form's hidden `next` field).
 */
async function assertNoDataOfB(page) {
  const path = new URL(page.url()).pathname;
  const html = (await page.content()).replaceAll(path, '');
  for (const secret of [userB.id, userB.name, userB.email, USERS.adminB, ORG_B, orgB]) {
    assert.ok(!html.includes(secret), `the page shows ${secret}`);
  }
}

async function assertNotFound(page, path) {
  const res = await page.goto(path);
  assert.equal(res.status(), 404, `${path} answers 404`);
  await page.getByRole('heading', { level: 1, name: 'Page introuvable' }).waitFor();
  await assertNoDataOfB(page);
}

test('an invited user sets a password from the e-mailed link, logs in, and sees only their organisation', async () => {
  const email = uniqueEmail('lea.fontaine');
  const name = 'Léa Fontaine';
  const password = 'une phrase de passe assez longue';

  // 1. The Administrator of A invites Léa from the client space.
  const admin = await newPage(browser);
  try {
    await login(admin.page, USERS.adminA);
    await admin.page.getByRole('navigation').getByRole('link', { name: 'Utilisateurs' }).click();
    await admin.page.getByRole('heading', { level: 1, name: `Utilisateurs — ${ORG_A}` }).waitFor();
    const form = admin.page.locator('form', { has: admin.page.getByRole('heading', { name: 'Inviter un utilisateur' }) });
    await form.getByLabel('Nom', { exact: true }).fill(name);
    await form.getByLabel('Adresse e-mail', { exact: true }).fill(email);
    await form.getByLabel('Langue', { exact: true }).selectOption('fr');
    await form.getByRole('checkbox', { name: 'Voir les services' }).check();
    await form.getByRole('button', { name: "Envoyer l'invitation" }).click();
    await admin.page.getByRole('status').filter({ hasText: 'Invitation envoyée.' }).waitFor();
    const row = admin.page.getByRole('row').filter({ hasText: email });
    await row.waitFor();
    assert.match(await row.textContent(), /Invité/, 'the new user is listed as invited');
    assert.deepEqual(admin.errors, []);
  } finally {
    await admin.context.close();
  }

  // 2. The invitation arrives by SMTP, in French, with a one-time link on the public URL.
  const [mail] = await waitForMail(email, { subject: /Invitation/ });
  assert.match(mail.subject, new RegExp(ORG_A));
  assert.match(mail.text, /Bonjour Léa Fontaine,/);
  const link = findLink(mail.text, '/invitation/');
  assert.ok(link.startsWith(`${CIEL_URL}/invitation/`), `the link uses the public URL: ${link}`);

  // 3. Léa opens it in her own browser and chooses a password.
  const lea = await newPage(browser);
  try {
    const { page } = lea;
    const res = await page.goto(link);
    assert.equal(res.status(), 200);
    await page.getByRole('heading', { level: 1, name: 'Bienvenue : choisissez votre mot de passe' }).waitFor();
    assert.ok((await page.locator('main').textContent()).includes(email), 'the page names the account');
    assert.deepEqual(await unlabelledControls(page), []);

    // Two different passwords: the error is shown next to the form.
    await page.getByLabel('Nouveau mot de passe').fill(password);
    await page.getByLabel('Confirmez le mot de passe').fill(`${password} !`);
    await page.getByRole('button', { name: 'Enregistrer le mot de passe' }).click();
    await page.getByRole('alert').filter({ hasText: 'Les deux mots de passe ne sont pas identiques.' }).waitFor();

    await page.getByLabel('Nouveau mot de passe').fill(password);
    await page.getByLabel('Confirmez le mot de passe').fill(password);
    await page.getByRole('button', { name: 'Enregistrer le mot de passe' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mot de passe enregistré' }).waitFor();

    // The link works once.
    const again = await page.goto(link);
    assert.equal(again.status(), 410);
    await page.getByText('Ce lien a déjà été utilisé.').waitFor();

    // 4. Léa logs in and sees her organisation and her profile.
    await login(page, email, password);
    assert.equal(new URL(page.url()).pathname, '/espace-client');
    await page.getByRole('heading', { level: 1, name: `Espace Client — ${ORG_A}` }).waitFor();
    const main = await page.locator('main').textContent();
    assert.ok(main.includes(email) && main.includes(name), 'her profile is shown');
    assert.ok(main.includes('Voir les services'), 'with the permission she was given');
    await page.screenshot({ path: screenshotPath('invited-user-home'), fullPage: true });

    // 5. She is a plain user: no user management, and nothing of B.
    assert.equal(await page.getByRole('navigation').getByRole('link', { name: 'Utilisateurs' }).count(), 0);
    await assertNotFound(page, '/espace-client/users');
    await assertNotFound(page, `/espace-client/users/${userB.id}`);
    await assertNotFound(page, '/back-office');
    const api = await page.request.get(`/api/v1/organizations/${orgB}/users`);
    assert.equal(api.status(), 404, 'the API hides B too');
    assert.ok(!(await api.text()).includes(userB.email));
    assert.deepEqual(lea.errors, []);
  } finally {
    await lea.context.close();
  }
});

test("an Administrator of A gets 404, never B's data, on B's user pages", async () => {
  const { context, page } = await newPage(browser);
  try {
    await login(page, USERS.adminA);
    // Her own users page lists A's users only.
    await page.goto('/espace-client/users');
    await page.getByRole('row').filter({ hasText: USERS.userA }).waitFor();
    await assertNoDataOfB(page);
    await assertNotFound(page, `/espace-client/users/${userB.id}`);
    // Changing B's user through the form's address is refused the same way.
    const token = await page.locator('input[name=_csrf]').first().inputValue();
    const post = await page.request.post(`/espace-client/users/${userB.id}`, {
      form: { _csrf: token, name: 'Pirate' },
    });
    assert.equal(post.status(), 404);
    const resend = await page.request.post(`/espace-client/users/${userB.id}/invitation`, { form: { _csrf: token } });
    assert.equal(resend.status(), 404);
    // The API answers 404 for B's organisation and B's user.
    for (const path of [`/api/v1/organizations/${orgB}/users`, `/api/v1/organizations/${orgB}`]) {
      const res = await page.request.get(path);
      assert.equal(res.status(), 404, `${path} answers 404`);
      assert.ok(!(await res.text()).includes(USERS.userB));
    }
  } finally {
    await context.close();
  }

  // B's user is untouched.
  const b = await newPage(browser);
  try {
    await login(b.page, USERS.adminB);
    const res = await b.page.request.get(`/api/v1/organizations/${orgB}/users`);
    const karim = (await res.json()).items.find((u) => u.id === userB.id);
    assert.equal(karim.name, userB.name);
  } finally {
    await b.context.close();
  }
});

test('a plain user without manage_users gets 404 on the user management pages', async () => {
  const { context, page } = await newPage(browser);
  try {
    await login(page, USERS.userA);
    await page.getByRole('heading', { level: 1, name: `Espace Client — ${ORG_A}` }).waitFor();
    assert.equal(await page.getByRole('navigation').getByRole('link', { name: 'Utilisateurs' }).count(), 0);
    await assertNotFound(page, '/espace-client/users');
    await assertNotFound(page, '/espace-client/audit');
    await assertNotFound(page, `/espace-client/users/${userB.id}`);
  } finally {
    await context.close();
  }
});
