// Issue 6, items 1, 4, 7, 8 and 9: a VM provisioned on the 7th of last month
// (staff back-date the provisioning), the client's billing profile with its
// SEPA mandate; staff start this month's billing run from the back office
// and follow it to the end; the client finds the invoice in its space, reads
// its lines with the rule that explains each one, downloads the Factur-X PDF,
// and contests the invoice from its balance page; staff download the FEC.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, login, me, screenshotPath, unlabelledControls, USERS } from '../lib/ciel.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** Calls the API with the page's session (CSRF token for writes, and staff back-dating). */
async function api(page, method, path, data, occurredAt) {
  const csrf = await page.locator('input[name="_csrf"]').first().getAttribute('value');
  const headers = { 'x-csrf-token': csrf };
  if (occurredAt) headers['ciel-occurred-at'] = occurredAt;
  const res = await page.request.fetch(path, { method, data, headers });
  const body = await res.json().catch(() => null);
  return { status: res.status(), body };
}

/** This month and the previous one, in Paris. */
function months() {
  const [y, m] = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit' })
    .format(new Date())
    .split('-')
    .map(Number);
  const pad = (n) => String(n).padStart(2, '0');
  const [py, pm] = m === 1 ? [y - 1, 12] : [y, m - 1];
  return { period: `${y}-${pad(m)}`, provisionedAt: `${py}-${pad(pm)}-07T08:00:00Z` };
}

test('staff bill the month; the client reads, downloads and contests its invoice', async () => {
  const suffix = Date.now().toString(36);
  const { period, provisionedAt } = months();
  const staff = await newPage(browser);
  const client = await newPage(browser);
  try {
    await login(staff.page, USERS.staffAdmin);
    await staff.page.goto('/back-office');
    await login(client.page, USERS.adminA);
    await client.page.goto('/espace-client');
    const org = (await me(client.page)).org_id;

    // The client's billing identity with its SEPA mandate (R2.7).
    const profile = await api(staff.page, 'PUT', `/api/v1/organizations/${org}/billing-profile`, {
      siret: '81234567600017',
      billing_email: 'compta.e2e@atelier-numerique.example',
      address: { street_name: 'rue de la République', building_number: '12', post_code: '69002', town: 'Lyon', country: 'FR' },
      vat_regime: { kind: 'standard' },
      sepa_mandate: { reference: `RUM-E2E-${suffix}`, iban: 'FR7630006000011234567890189', bic: 'BNPAFRPP', signed_on: '2026-04-30' },
    });
    assert.equal(profile.status, 200, JSON.stringify(profile.body));

    // One VM, provisioned on the 7th of last month (R2.4: its pro-rata and
    // this month in advance are on this month's invoice).
    const lines = [{ item: { kind: 'cloud_vm', vcpu: 2, ram_gb: 4, storage_gb: 50, class: 'mono_site' }, commitment_months: 12 }];
    const draft = await api(staff.page, 'POST', `/api/v1/organizations/${org}/orders`, { lines });
    assert.equal(draft.status, 201, JSON.stringify(draft.body));
    const order = draft.body.id;
    for (const [who, step] of [[staff, 'send'], [client, 'accept'], [staff, 'validate']]) {
      const r = await api(who.page, 'POST', `/api/v1/orders/${order}/${step}`);
      assert.equal(r.status, 200, `${step}: ${JSON.stringify(r.body)}`);
    }
    const list = await api(client.page, 'GET', `/api/v1/organizations/${org}/services?limit=200`);
    const vm = list.body.items.find((s) => s.order_id === order);
    const provisioned = await api(staff.page, 'POST', `/api/v1/services/${vm.id}/provision`, {}, provisionedAt);
    assert.equal(provisioned.status, 200, JSON.stringify(provisioned.body));

    // Staff start the run from the back office and follow its progress.
    const { page } = staff;
    await page.goto('/back-office/billing');
    await page.getByLabel('Mois (AAAA-MM)').fill(period);
    await page.getByRole('button', { name: 'Lancer', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: `Facturation du mois ${period}` }).waitFor();
    await page.getByText('terminée').waitFor({ timeout: 60_000 });
    assert.deepEqual(await unlabelledControls(page), []);
    await page.screenshot({ path: screenshotPath('billing-run'), fullPage: true });

    // The client finds the invoice, reads why each line is there.
    const c = client.page;
    await c.goto('/espace-client');
    await c.getByRole('navigation').getByRole('link', { name: 'Factures' }).click();
    const rows = c.getByRole('table', { name: 'Factures et avoirs' }).getByRole('row');
    const invoiceLink = rows.filter({ hasText: 'Facture' }).first().getByRole('link').first();
    const number = (await invoiceLink.textContent()).trim();
    assert.match(number, /^[A-Za-z0-9+\-_/]{1,35}$/, 'R2.11 number');
    await invoiceLink.click();
    await c.getByRole('heading', { level: 1, name: new RegExp(number) }).waitFor();
    await c.getByText('R2.4').first().waitFor();
    await c.getByText('Prorata').first().waitFor();
    assert.deepEqual(await unlabelledControls(c), []);
    await c.screenshot({ path: screenshotPath('invoice-client'), fullPage: true });
    const pdfHref = await c.getByRole('link', { name: /Télécharger/ }).first().getAttribute('href');
    const pdf = await c.request.get(pdfHref);
    assert.equal(pdf.status(), 200);
    assert.equal(pdf.headers()['content-type'], 'application/pdf');
    const bytes = await pdf.body();
    assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
    assert.ok(bytes.includes('factur-x.xml'), 'the CII XML is embedded');

    // It stays due while contested (R2.7): from the balance page.
    await c.goto('/espace-client/solde');
    await c.getByRole('row').filter({ hasText: number }).getByRole('link', { name: 'Contester' }).click();
    await c.getByLabel('Motif').fill(`Prorata à vérifier (${suffix})`);
    await c.getByRole('button', { name: 'Contester' }).click();
    await c.getByRole('status').filter({ hasText: 'Contestation envoyée.' }).waitFor();
    assert.deepEqual(client.errors, []);

    // Staff download the FEC of the month: a tab-separated file, balanced.
    const fec = await page.request.get(`/back-office/billing/fec?from=${period}-01&to=${period}-28`);
    assert.equal(fec.status(), 200);
    const text = await fec.text();
    assert.ok(text.startsWith('JournalCode\tJournalLib\tEcritureNum'));
    assert.ok(text.includes(number), 'the invoice is booked');
    assert.deepEqual(staff.errors, []);
  } finally {
    await staff.context.close();
    await client.context.close();
  }
});
