// Issue 5, items 5 and 1: a PRA order of two machines is sold and provisioned
// (through the API, as staff and the client's Administrator would); staff
// record a failover called in two hours ago and the restoration of the C1
// machine from the back-office forms; the client reads the RTO per machine
// and the results per criticality, then opens a ticket on the machine from
// the client space and sees its GTI/GTR deadlines.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, launchBrowser, newPage, login, me, parisLocal, screenshotPath, unlabelledControls, USERS } from '../lib/ciel.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test('staff record a failover and a restoration; the client reads the results and opens a ticket', async () => {
  const suffix = Date.now().toString(36);
  const staff = await newPage(browser);
  const client = await newPage(browser);
  try {
    await login(staff.page, USERS.staffAdmin);
    await staff.page.goto('/back-office');
    await login(client.page, USERS.adminA);
    await client.page.goto('/espace-client');
    const org = (await me(client.page)).org_id;

    // The sale: two protected machines, C1 and C2 (R10.1), 12 months.
    const lines = [
      { item: { kind: 'pra_machine', machine: `db-${suffix}`, criticality: 'c1' }, commitment_months: 12 },
      { item: { kind: 'pra_machine', machine: `web-${suffix}`, criticality: 'c2' }, commitment_months: 12 },
    ];
    const draft = await api(staff.page, 'POST', `/api/v1/organizations/${org}/orders`, { lines });
    assert.equal(draft.status, 201, JSON.stringify(draft.body));
    const order = draft.body.id;
    for (const [who, step] of [[staff, 'send'], [client, 'accept'], [staff, 'validate']]) {
      const r = await api(who.page, 'POST', `/api/v1/orders/${order}/${step}`);
      assert.equal(r.status, 200, `${step}: ${JSON.stringify(r.body)}`);
    }
    const list = await api(client.page, 'GET', `/api/v1/organizations/${org}/services?limit=200`);
    const machines = list.body.items.filter((s) => s.order_id === order);
    assert.equal(machines.length, 2);
    for (const s of machines) {
      const r = await api(staff.page, 'POST', `/api/v1/services/${s.id}/provision`, {});
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }

    // Staff record the call of two hours ago from the organisation's page.
    const { page } = staff;
    await page.goto(`/back-office/organizations/${org}/pra-activations`);
    await page.getByRole('heading', { level: 1, name: /Activations du PRA/ }).waitFor();
    const record = page.locator('form', { has: page.getByRole('heading', { name: 'Enregistrer une activation' }) });
    await record.getByLabel('Commande').selectOption(order);
    await record.getByLabel('Demandeur').fill('Jeanne Martin (appel)');
    await record.getByLabel('Demandé le').fill(parisLocal(-120));
    await record.getByRole('button', { name: 'Enregistrer une activation' }).click();
    await page.getByRole('status').filter({ hasText: 'Activation du PRA enregistrée.' }).waitFor();
    const activation = new URL(page.url()).pathname.split('/').pop();
    assert.match(activation, /^pra_/);

    // db is reachable again 30 minutes after the request: within its 1 h RTO.
    const restore = page.locator('form', { has: page.getByRole('heading', { name: 'Enregistrer une restauration' }) });
    await restore.getByLabel('Machine').selectOption({ label: `db-${suffix} (C1)` });
    await restore.getByLabel('De nouveau joignable le').fill(parisLocal(-90));
    await restore.getByRole('button', { name: 'Enregistrer une restauration' }).click();
    await page.getByRole('status').filter({ hasText: 'Activation du PRA mise à jour.' }).waitFor();
    assert.deepEqual(await unlabelledControls(page), []);

    // The client reads it from the navigation.
    const c = client.page;
    await c.goto('/espace-client');
    await c.getByRole('navigation').getByRole('link', { name: 'PRA' }).click();
    await c.getByRole('link', { name: activation }).click();
    const machinesTable = c.getByRole('table', { name: 'Machines' });
    await machinesTable.getByRole('row').filter({ hasText: `db-${suffix}` }).filter({ hasText: '0:30' }).waitFor();
    await machinesTable.getByRole('row').filter({ hasText: `web-${suffix}` }).filter({ hasText: 'Non restaurée' }).waitFor();
    const results = c.getByRole('table', { name: 'Résultats par criticité (R6.2-R6.4)' });
    // C1: one machine, in time (R6.2 1 h).
    const c1 = results.getByRole('row').filter({ hasText: /^\s*C1/ });
    assert.match(await c1.textContent(), /oui/);
    await c.getByText('R6.4').first().waitFor();
    await c.screenshot({ path: screenshotPath('pra-activation'), fullPage: true });
    assert.deepEqual(client.errors, []);

    // A ticket on the machine, opened 24/7 from the client space (R4).
    await c.goto('/espace-client/tickets');
    const open = c.locator('form', { has: c.getByRole('button', { name: 'Ouvrir un ticket' }) });
    await open.getByLabel('Service concerné').selectOption({ value: machines.find((m) => m.item?.machine === `db-${suffix}`)?.id ?? machines[0].id });
    await open.getByLabel('Criticité').selectOption('C2');
    await open.getByLabel('Description', { exact: true }).fill(`Bascule ${suffix} : base injoignable`);
    await open.getByRole('button', { name: 'Ouvrir un ticket' }).click();
    await c.getByRole('status').filter({ hasText: 'Ticket ouvert.' }).waitFor();
    await c.getByText(/GTI/).first().waitFor();
    await c.getByText(/GTR/).first().waitFor();
    await c.screenshot({ path: screenshotPath('ticket-opened'), fullPage: true });
  } finally {
    await staff.context.close();
    await client.context.close();
  }
});
