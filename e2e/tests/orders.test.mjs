// Issue 4, item 8: staff publish a tariff and draft then send an order from
// the back office, without JavaScript of ours; the client's Administrator
// accepts it in the client space. Refusals (R2.2 notice, R12.1 option rule)
// are shown next to their field, the typed values kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, login, screenshotPath, USERS, ORG_A } from '../lib/ciel.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** The day `days` from today, as a date input takes it. */
function inDays(days) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

/** The element an input's aria-describedby names that holds `text`. */
async function describedBy(input, text) {
  const ids = (await input.getAttribute('aria-describedby')) || '';
  const page = input.page();
  for (const id of ids.split(/\s+/).filter(Boolean)) {
    const t = await page.locator(`[id="${id}"]`).textContent();
    if (t.includes(text)) return t;
  }
  assert.fail(`no description of the field mentions ${text} (ids: ${ids})`);
}

test('staff publish a tariff, draft and send an order; the client Administrator accepts it', async () => {
  const suffix = Date.now().toString(36);
  const tariff = `Tarif e2e ${suffix}`;
  let orderPath;
  const staff = await newPage(browser);
  try {
    const { page } = staff;
    await login(page, USERS.staffAdmin);
    await page.getByRole('navigation').getByRole('link', { name: 'Tarifs' }).click();
    await page.getByRole('heading', { level: 1, name: 'Tarifs' }).waitFor();
    await page.getByRole('row').filter({ hasText: 'Tarif de démonstration' }).first().waitFor();

    const form = page.locator('form', { has: page.getByRole('heading', { name: 'Publier une nouvelle version' }) });
    const prices = form.getByLabel('Prix (un palier par ligne)');
    const current = await prices.inputValue();
    assert.match(current, /^support\.premium 300$/m, 'the form starts from the latest version');
    await form.getByLabel('Nom', { exact: true }).fill(tariff);
    await form.getByLabel("Date d'effet").fill(inDays(5));
    await prices.fill(current.replace(/^support\.premium 300$/m, 'support.premium 320'));
    await form.getByRole('button', { name: 'Publier la version' }).click();
    // R2.2: less than 30 days' notice, shown next to the date; nothing lost.
    const date = page.getByLabel("Date d'effet");
    assert.equal(await date.getAttribute('aria-invalid'), 'true');
    await describedBy(date, 'R2.2');
    await page.screenshot({ path: screenshotPath('tariff-refused'), fullPage: true });
    assert.equal(await page.getByLabel('Nom', { exact: true }).inputValue(), tariff);
    assert.match(await page.getByLabel('Prix (un palier par ligne)').inputValue(), /^support\.premium 320$/m);
    await date.fill(inDays(45));
    await page.getByRole('button', { name: 'Publier la version' }).click();
    await page.getByRole('status').filter({ hasText: 'Tarif publié.' }).waitFor();
    await page.getByRole('row').filter({ hasText: tariff }).waitFor();

    // The order form, from the client organisation's page.
    await page.goto('/back-office');
    await page.getByRole('link', { name: ORG_A }).click();
    await page.getByRole('link', { name: 'Nouveau bon de commande' }).click();
    await page.getByRole('heading', { level: 1, name: `Nouveau bon de commande — ${ORG_A}` }).waitFor();
    const line1 = page.getByRole('group', { name: 'Ligne 1' });
    await line1.getByLabel('Prestation').selectOption('support');
    await line1.getByText('Paramètres de la ligne 1').click();
    await line1.getByLabel('Niveau (support, infogérance)').selectOption('premium');
    const line2 = page.getByRole('group', { name: 'Ligne 2' });
    await line2.getByLabel('Prestation').selectOption('cloud_connect');
    await page.getByRole('button', { name: 'Créer le bon de commande' }).click();
    // R12.1: Cloud Connect needs the client's VPN MPLS contract, next to line 2.
    const again2 = page.getByRole('group', { name: 'Ligne 2' });
    await again2.getByRole('alert').filter({ hasText: 'R12.1' }).waitFor();
    await describedBy(again2.getByLabel('Prestation'), 'R12.1');
    await page.screenshot({ path: screenshotPath('order-form-refused'), fullPage: true });
    assert.equal(await page.getByRole('group', { name: 'Ligne 1' }).getByRole('alert').count(), 0);
    assert.equal(
      await page.getByRole('group', { name: 'Ligne 1' }).getByLabel('Niveau (support, infogérance)').inputValue(),
      'premium',
      'the typed values are kept',
    );
    const ref = again2.getByLabel('Référence du contrat VPN MPLS (Cloud Connect)');
    assert.equal(await ref.getAttribute('aria-invalid'), 'true');
    await ref.fill('MPLS-4521');
    await page.getByRole('button', { name: 'Créer le bon de commande' }).click();
    await page.getByRole('status').filter({ hasText: 'Bon de commande créé (brouillon).' }).waitFor();
    await page.getByText('Brouillon', { exact: true }).waitFor();
    orderPath = new URL(page.url()).pathname;
    const id = orderPath.split('/').pop();
    // Sent to the client.
    await page.getByRole('button', { name: 'Envoyer au client' }).click();
    await page.getByRole('status').filter({ hasText: 'Bon de commande envoyé.' }).waitFor();
    // The client's list shows it.
    await page.getByRole('link', { name: 'Retour aux bons de commande' }).click();
    await page.getByRole('link', { name: id }).waitFor();
    assert.deepEqual(staff.errors, []);
    orderPath = `/espace-client/orders/${id}`;
  } finally {
    await staff.context.close();
  }

  const admin = await newPage(browser);
  try {
    const { page } = admin;
    await login(page, USERS.adminA);
    await page.getByRole('navigation').getByRole('link', { name: 'Bons de commande' }).click();
    const id = orderPath.split('/').pop();
    await page.getByRole('link', { name: id }).click();
    await page.getByText("Envoyé, en attente d'acceptation").waitFor();
    await page.getByRole('button', { name: "J'accepte le bon de commande" }).click();
    await page.getByRole('status').filter({ hasText: 'Bon de commande accepté.' }).waitFor();
    await page.getByText('Accepté par le client').waitFor();
    assert.deepEqual(admin.errors, []);
  } finally {
    await admin.context.close();
  }
});
