// Issue 7, the forms that were API only: the client's backup plan (R9.1,
// R9.7), PRA designations and a late test notice shown billed (R10.2,
// R10.3), the decommissioning photo sent as a multipart form (R11.6), and
// the back office's PRA follow-up, where staff mark each machine reachable
// and record the return to nominal (R10.4). Sales go through the API, as
// staff and the client's Administrator would; every step the tests check
// is a page and its form.
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

/** Sells `lines` to the client of `client` and provisions each service. */
async function sell(staff, client, lines) {
  const org = (await me(client.page)).org_id;
  const draft = await api(staff.page, 'POST', `/api/v1/organizations/${org}/orders`, { lines });
  assert.equal(draft.status, 201, JSON.stringify(draft.body));
  const order = draft.body.id;
  for (const [who, step] of [[staff, 'send'], [client, 'accept'], [staff, 'validate']]) {
    const r = await api(who.page, 'POST', `/api/v1/orders/${order}/${step}`);
    assert.equal(r.status, 200, `${step}: ${JSON.stringify(r.body)}`);
  }
  const list = await api(client.page, 'GET', `/api/v1/organizations/${org}/services?limit=200`);
  const services = list.body.items.filter((s) => s.order_id === order);
  for (const s of services) {
    const r = await api(staff.page, 'POST', `/api/v1/services/${s.id}/provision`, {});
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  return { org, order, services };
}

/** The form whose heading is `name`. */
function form(page, name) {
  return page.locator('form', { has: page.getByRole('heading', { name, exact: true }) });
}

async function sessions() {
  const staff = await newPage(browser);
  const client = await newPage(browser);
  await login(staff.page, USERS.staffAdmin);
  await staff.page.goto('/back-office');
  await login(client.page, USERS.adminA);
  await client.page.goto('/espace-client');
  return { staff, client };
}

test('the client sets a Microsoft 365 backup plan from its page', async () => {
  const { staff, client } = await sessions();
  try {
    const { org, services } = await sell(staff, client, [
      { item: { kind: 'm365_backup', provisioned_storage_gb: 50 }, commitment_months: 12 },
    ]);
    const id = services[0].id;
    // R10.2: the Administrator designates herself for policies (API).
    const users = await api(client.page, 'GET', `/api/v1/organizations/${org}/users?limit=200`);
    const jeanne = users.body.items.find((u) => u.email === USERS.adminA);
    const d = await api(client.page, 'POST', `/api/v1/organizations/${org}/pra-designations`, {
      user_id: jeanne.id,
      actions: ['change_policies'],
    });
    assert.equal(d.status, 201, JSON.stringify(d.body));

    const c = client.page;
    await c.goto(`/espace-client/sauvegardes/${id}`);
    const plan = form(c, 'Plan de sauvegarde (R9.1, R9.7)');
    // Only the Microsoft 365 scopes are offered on this service (R9.7).
    assert.equal(await plan.getByLabel('Machines virtuelles').count(), 0);
    await plan.getByLabel('Fréquence').selectOption('daily');
    await plan.getByLabel('Type').selectOption('incremental');
    await plan.getByLabel('Rétention (jours)').fill('90');
    await plan.getByLabel('Exchange (messagerie)').check();
    await plan.getByLabel('OneDrive').check();
    assert.deepEqual(await unlabelledControls(c), []);
    await plan.getByRole('button', { name: 'Enregistrer le plan' }).click();
    await c.getByRole('status').filter({ hasText: 'Enregistré.' }).waitFor();
    await c.getByText(/daily \/ incremental \/ 90 j \/ \["exchange","one_drive"\]/).first().waitFor();
    await c.screenshot({ path: screenshotPath('backup-plan-form'), fullPage: true });
    assert.deepEqual(client.errors, []);
  } finally {
    await staff.context.close();
    await client.context.close();
  }
});

test('the Administrator designates PRA users and a late test notice is shown billed', async () => {
  const { staff, client } = await sessions();
  const suffix = Date.now().toString(36);
  try {
    const { order } = await sell(staff, client, [
      { item: { kind: 'pra_machine', machine: `app-${suffix}`, criticality: 'c2' }, commitment_months: 12 },
    ]);
    const c = client.page;
    await c.goto('/espace-client/pra');
    // R10.2: Paul may trigger failovers, Jeanne change policies.
    for (const [who, action] of [
      [/Paul Durand/, 'déclencher une bascule'],
      [/Jeanne Martin/, 'modifier les politiques de réplication et de sauvegarde'],
    ]) {
      const f = form(c, 'Désigner un utilisateur (R10.2)');
      const option = await f.getByLabel('Utilisateur').locator('option', { hasText: who }).first().getAttribute('value');
      await f.getByLabel('Utilisateur').selectOption(option);
      await f.getByLabel(action).check();
      await f.getByRole('button', { name: 'Désigner un utilisateur (R10.2)' }).click();
      await c.getByRole('status').filter({ hasText: 'Enregistré.' }).waitFor();
    }
    const designations = c.getByRole('table', { name: 'Utilisateurs désignés (R10.2)' });
    await designations.getByRole('row').filter({ hasText: USERS.userA }).filter({ hasText: 'déclencher une bascule' }).first().waitFor();

    // R10.3: a simple test 5 days from now is notified late (fewer than
    // 15 days): accepted, and shown billed.
    const t = form(c, "Prévenir d'un test (R10.3)");
    await t.getByLabel('Commande', { exact: true }).selectOption(order);
    await t.getByLabel('Nature').selectOption('simple');
    await t.getByLabel('Début du test').fill(parisLocal(5 * 24 * 60));
    assert.deepEqual(await unlabelledControls(c), []);
    await t.getByRole('button', { name: "Prévenir d'un test (R10.3)" }).click();
    await c.getByRole('status').filter({ hasText: 'Enregistré.' }).waitFor();
    const tests = c.getByRole('table', { name: 'Tests notifiés (R10.3)' });
    await tests.getByRole('row').filter({ hasText: order }).filter({ hasText: 'facturé' }).first().waitFor();
    await c.screenshot({ path: screenshotPath('pra-designation-test'), fullPage: true });
    assert.deepEqual(client.errors, []);
  } finally {
    await staff.context.close();
    await client.context.close();
  }
});

test('staff follow a failover machine by machine and record the return to nominal', async () => {
  const { staff, client } = await sessions();
  const suffix = Date.now().toString(36);
  try {
    const { order, services } = await sell(staff, client, [
      { item: { kind: 'pra_machine', machine: `fa-${suffix}`, criticality: 'c1' }, commitment_months: 12 },
      { item: { kind: 'pra_machine', machine: `fb-${suffix}`, criticality: 'c2' }, commitment_months: 12 },
    ]);
    assert.equal(services.length, 2);
    // Staff record the client's call (API); the follow-up page does the rest.
    const a = await api(staff.page, 'POST', `/api/v1/orders/${order}/pra-activations`, { requester: 'Jeanne Martin (appel)' });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    const id = a.body.id;

    const p = staff.page;
    await p.goto('/back-office');
    await p.getByRole('navigation').getByRole('link', { name: 'PRA' }).click();
    await p.getByRole('heading', { level: 1, name: 'PRA : suivi de tous les clients' }).waitFor();
    await p.getByRole('table', { name: 'Machines protégées' }).getByRole('row').filter({ hasText: `fa-${suffix}` }).waitFor();
    assert.deepEqual(await unlabelledControls(p), []);
    for (const m of [`fa-${suffix}`, `fb-${suffix}`]) {
      await p.getByRole('button', { name: `Joignable à nouveau — ${m}` }).click();
      await p.getByRole('status').filter({ hasText: 'Activation du PRA mise à jour.' }).waitFor();
    }
    const running = p.getByRole('table', { name: new RegExp(id) });
    await running.getByRole('row').filter({ hasText: `fb-${suffix}` }).filter({ hasText: /\d+:\d\d/ }).waitFor();
    await p.screenshot({ path: screenshotPath('pra-follow-up'), fullPage: true });
    await p.getByRole('button', { name: `Retour au nominal — ${id}` }).click();
    await p.getByRole('status').filter({ hasText: 'Activation du PRA mise à jour.' }).waitFor();
    assert.equal(await p.getByRole('button', { name: `Retour au nominal — ${id}` }).count(), 0);
    const done = await api(p, 'GET', `/api/v1/pra-activations/${id}`);
    assert.ok(done.body.closed_at, JSON.stringify(done.body));
    assert.ok(done.body.machines.every((m) => m.reachable_at), JSON.stringify(done.body));
    assert.deepEqual(staff.errors, []);
  } finally {
    await staff.context.close();
    await client.context.close();
  }
});

test('the client sends the decommissioning photo from its colocation page', async () => {
  const { staff, client } = await sessions();
  try {
    const { services } = await sell(staff, client, [
      {
        item: {
          kind: 'colocation', datacenter: 'DIJ', emplacement: `baie ${Date.now().toString(36)}`, rack_units: 2,
          power_kva: '1', max_amperage_a: '8', bandwidth_flat_mbps: 100, overage_price_per_mbps: '3.50',
        },
        commitment_months: 12,
      },
    ]);
    const colo = services[0].id;
    const last = new Date(Date.now() + 40 * 24 * 3600_000).toISOString().slice(0, 10);
    const t = await api(staff.page, 'POST', `/api/v1/services/${colo}/terminate-early`, { last_day: last });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    const d = await api(staff.page, 'POST', `/api/v1/services/${colo}/decommissioning`);
    assert.equal(d.status, 200, JSON.stringify(d.body));

    const c = client.page;
    await c.goto('/espace-client/colocation/operations');
    const f = form(c, "Envoyer la photo de l'emplacement vidé (R11.6)");
    await f.getByLabel('Service').selectOption(colo);
    await f.getByLabel('Photo prise le').fill(parisLocal(-10));
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(4096, 7)]);
    await f.getByLabel('Photo (JPEG ou PNG)').setInputFiles({ name: 'baie-vide.png', mimeType: 'image/png', buffer: png });
    assert.deepEqual(await unlabelledControls(c), []);
    await f.getByRole('button', { name: 'Envoyer la photo' }).click();
    await c.getByRole('status').filter({ hasText: 'Enregistré.' }).waitFor();
    const after = await api(c, 'GET', `/api/v1/services/${colo}/decommissioning`);
    assert.equal(after.body.photo?.content_type, 'image/png', JSON.stringify(after.body));
    assert.equal(after.body.photo?.size_bytes, png.length);
    await c.screenshot({ path: screenshotPath('decommissioning-photo'), fullPage: true });
    assert.deepEqual(client.errors, []);
  } finally {
    await staff.context.close();
    await client.context.close();
  }
});
