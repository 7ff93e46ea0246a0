// Issue 5, item 8: the per-service SLA page. Staff sell and provision a
// Mono Site VM to client A and monitoring records 20 minutes lost on it;
// A's Administrator opens the service's availability page: both charts are
// inline SVG images with their accessible name, drawn without any script of
// ours, with a bar per day so far and the 12 months' labels, and fit a
// phone's screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, login, me, screenshotPath, USERS } from '../lib/ciel.mjs';

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** A JSON write with the session's CSRF token, answered with `status`. */
async function write(page, method, path, data, status, headers = {}) {
  const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
  const res = await page.request.fetch(path, {
    method,
    data,
    headers: { 'x-csrf-token': csrf, 'content-type': 'application/json', ...headers },
  });
  assert.equal(res.status(), status, `${method} ${path}: ${await res.text()}`);
  return res.json();
}

test('the client sees its service availability as accessible SVG charts', async () => {
  const staff = await newPage(browser);
  const client = await newPage(browser);
  try {
    await login(client.page, USERS.adminA);
    const org = (await me(client.page)).org_id;
    await login(staff.page, USERS.staffAdmin);
    const vm = { item: { kind: 'cloud_vm', vcpu: 2, ram_gb: 4, storage_gb: 50, class: 'mono_site' }, commitment_months: 12 };
    const order = await write(staff.page, 'POST', `/api/v1/organizations/${org}/orders`, { lines: [vm] }, 201);
    await write(staff.page, 'POST', `/api/v1/orders/${order.id}/send`, undefined, 200);
    await write(client.page, 'POST', `/api/v1/orders/${order.id}/accept`, undefined, 200);
    await write(staff.page, 'POST', `/api/v1/orders/${order.id}/validate`, undefined, 200);
    const services = await (await client.page.request.get(`/api/v1/organizations/${org}/services?limit=200`)).json();
    const service = services.items.find((s) => s.order_id === order.id);
    assert.ok(service, 'the order made a service');
    await write(staff.page, 'POST', `/api/v1/services/${service.id}/provision`, {}, 200);
    const end = new Date(Date.now() - 60_000);
    const start = new Date(end.getTime() - 20 * 60_000);
    await write(
      staff.page,
      'POST',
      '/api/v1/episodes',
      { kind: 'cluster_connectivity', service_id: service.id, start: start.toISOString(), end: end.toISOString() },
      201,
      { 'idempotency-key': `e2e-sla-${service.id}` },
    );

    const { page, errors } = client;
    await page.goto(`/espace-client/services/${service.id}`);
    await page.getByRole('link', { name: 'Disponibilité (SLA)' }).click();
    await page.getByRole('heading', { level: 1, name: /Disponibilité du service/ }).waitFor();
    const daily = page.getByRole('img', { name: /Disponibilité quotidienne/ });
    const history = page.getByRole('img', { name: /Taux mensuel sur 12 mois/ });
    await daily.waitFor();
    assert.ok(await daily.isVisible(), 'the daily chart is visible');
    assert.ok(await history.isVisible(), 'the 12-month chart is visible');
    const box = await daily.boundingBox();
    assert.ok(box && box.width > 100 && box.height > 100, `the daily chart has a size: ${JSON.stringify(box)}`);
    const today = new Date().toLocaleString('en-CA', { timeZone: 'Europe/Paris', day: 'numeric' });
    assert.equal(await page.locator('#sla-daily rect').count(), Number(today), 'one bar per day so far');
    assert.equal(await page.locator('#sla-history text').filter({ hasText: /^\d{4}-\d{2}$/ }).count(), 12);
    assert.match(await page.locator('#sla-rate').textContent(), /%/);
    await page.screenshot({ path: screenshotPath('sla-page'), fullPage: true });
    // On a phone the charts shrink to the screen: no sideways scrolling.
    await page.setViewportSize({ width: 390, height: 844 });
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the page is ${width}px wide on a 390px screen`);
    assert.ok((await daily.boundingBox()).width <= 390);
    await page.screenshot({ path: screenshotPath('phone-sla-page'), fullPage: true });
    assert.deepEqual(errors, []);
  } finally {
    await staff.context.close();
    await client.context.close();
  }
});
