// Staff onboard a client company from the back office; its Administrator
// receives the invitation (here in English), sets a password and manages
// the new organisation's users.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launchBrowser, newPage, login, me, waitForMail, findLink, uniqueEmail, USERS, ORG_A, CIEL_URL,
} from '../lib/ciel.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('staff create an organisation whose Administrator receives an invitation and can log in', async () => {
  const suffix = Date.now().toString(36);
  const orgName = `Boulangerie Dupain ${suffix} SARL`;
  const adminName = 'Agnès Dupain';
  const adminEmail = uniqueEmail('agnes.dupain', 'boulangerie-dupain.example');
  const password = 'a long enough pass phrase';

  const staff = await newPage(browser);
  let orgId;
  try {
    const { page } = staff;
    await login(page, USERS.staffAdmin);
    assert.equal(new URL(page.url()).pathname, '/back-office', 'staff land in the back office');
    await page.getByRole('heading', { level: 1, name: 'Organisations clientes' }).waitFor();
    const form = page.locator('form', { has: page.getByRole('heading', { name: 'Nouvelle organisation cliente' }) });
    await form.getByLabel('Raison sociale').fill(orgName);
    await form.getByLabel('Adresse', { exact: true }).fill('12 rue du Four, 69002 Lyon');
    const adminBox = form.getByRole('group', { name: "Administrateur de l'Espace Client" });
    await adminBox.getByLabel('Nom', { exact: true }).fill(adminName);
    await adminBox.getByLabel('Adresse e-mail').fill(adminEmail);
    await adminBox.getByLabel('Langue').selectOption('en');
    await form.getByRole('button', { name: "Créer et inviter l'Administrateur" }).click();
    await page.getByRole('status').filter({ hasText: "Organisation créée ; l'Administrateur a reçu son invitation." }).waitFor();

    // The organisation's page lists its Administrator, invited.
    await page.goto('/back-office');
    let link = page.getByRole('link', { name: orgName });
    for (let i = 0; i < 10 && !(await link.count()); i++) {
      const next = page.getByRole('link', { name: 'Page suivante' });
      if (!(await next.count())) break;
      await next.click();
      link = page.getByRole('link', { name: orgName });
    }
    await link.click();
    orgId = new URL(page.url()).pathname.split('/').pop();
    await page.getByRole('row').filter({ hasText: adminEmail }).filter({ hasText: 'Invité' }).waitFor();
    assert.deepEqual(staff.errors, []);
  } finally {
    await staff.context.close();
  }

  // The invitation is in English, the Administrator's language.
  const [mail] = await waitForMail(adminEmail, { subject: /client space/ });
  assert.equal(mail.subject, `Invitation to the ${orgName} client space`);
  assert.match(mail.text, /as its Administrator/);
  const link = findLink(mail.text, '/invitation/');
  assert.ok(link.startsWith(`${CIEL_URL}/invitation/`));

  const agnes = await newPage(browser);
  try {
    const { page } = agnes;
    await page.goto(link);
    assert.equal(await page.locator('html').getAttribute('lang'), 'en', 'the page speaks the invitee’s language');
    await page.getByRole('heading', { level: 1, name: 'Welcome: choose your password' }).waitFor();
    await page.getByLabel('New password').fill(password);
    await page.getByLabel('Confirm the password').fill(password);
    await page.getByRole('button', { name: 'Save the password' }).click();
    await page.getByRole('heading', { level: 1, name: /^(Password saved|Mot de passe enregistré)$/ }).waitFor();

    await login(page, adminEmail, password);
    assert.equal(new URL(page.url()).pathname, '/espace-client');
    await page.getByRole('heading', { level: 1, name: new RegExp(`— ${orgName}$`) }).waitFor();
    const self = await me(page);
    assert.equal(self.org_id, orgId, 'she belongs to the new organisation');
    assert.equal(self.is_admin, true, 'as its Administrator');

    // She manages her organisation's users, and only those.
    await page.goto('/espace-client/users');
    await page.getByRole('row').filter({ hasText: adminEmail }).waitFor();
    const html = await page.content();
    assert.ok(!html.includes(ORG_A) && !html.includes(USERS.userA), 'no other organisation’s users');
    const res = await page.goto('/back-office');
    assert.equal(res.status(), 404, 'a client never sees the back office');
    assert.deepEqual(agnes.errors, []);
  } finally {
    await agnes.context.close();
  }
});

test('the back office pages open for staff', async () => {
  const { context, page, errors } = await newPage(browser);
  try {
    await login(page, USERS.staffAdmin);
    for (const [path, heading] of [
      ['/back-office/staff', 'Équipe du fournisseur'],
      ['/back-office/audit', "Journal d'audit"],
      ['/back-office/messages', 'Notifications envoyées'],
    ]) {
      const res = await page.goto(path);
      assert.equal(res.status(), 200, path);
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    }
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
