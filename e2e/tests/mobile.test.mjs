// The portal on a phone (390x844, touch): no horizontal scrolling, the
// form fields fit the screen. Screenshots go to e2e/test-results/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, login, horizontalOverflow, screenshotPath, USERS, ORG_A } from '../lib/ciel.mjs';

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

async function checkPhone(page, path, shot) {
  const res = await page.goto(path);
  assert.equal(res.status(), 200, `${path} status`);
  const o = await horizontalOverflow(page);
  await page.screenshot({ path: screenshotPath(shot), fullPage: true });
  assert.ok(o.scrollWidth <= o.clientWidth, `${path} scrolls sideways on a phone: ${JSON.stringify(o)}`);
  // Every visible field is inside the screen (a wide data table scrolls
  // sideways inside its own wrapper, which WCAG's reflow rule allows).
  const outside = await page.evaluate(() =>
    [...document.querySelectorAll('input:not([type=hidden]), select, button')]
      .filter((el) => {
        if (el.closest('.table-wrap')) return false;
        const r = el.getBoundingClientRect();
        return r.width > 0 && (r.left < 0 || r.right > document.documentElement.clientWidth);
      })
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(outside, [], `${path}: controls outside the screen`);
}

test('the login page fits a phone', async () => {
  const { context, page } = await newPage(browser, PHONE);
  try {
    await checkPhone(page, '/login', 'phone-login');
    // Tap targets of the form are comfortable (at least 24 px high, WCAG 2.2 AA).
    for (const name of ['Adresse e-mail', 'Mot de passe']) {
      const box = await page.getByLabel(name, { exact: true }).boundingBox();
      assert.ok(box.height >= 24, `${name} is ${box.height}px high`);
    }
    const button = await page.getByRole('button', { name: 'Se connecter' }).boundingBox();
    assert.ok(button.height >= 24);
  } finally {
    await context.close();
  }
});

test('the client space fits a phone', async () => {
  const { context, page } = await newPage(browser, PHONE);
  try {
    await login(page, USERS.adminA);
    await checkPhone(page, '/espace-client', 'phone-client-home');
    await checkPhone(page, '/espace-client/users', 'phone-client-users');
    // With a token in the table, whose last column holds the revoke button.
    await page.goto('/account');
    await page.getByLabel('Nom du jeton (usage)').fill('sauvegarde nocturne');
    await page.getByRole('button', { name: 'Créer un jeton' }).click();
    await page.getByRole('button', { name: 'Révoquer' }).first().waitFor();
    await checkPhone(page, '/account', 'phone-account');
    const revoke = await page.getByRole('button', { name: 'Révoquer' }).first().boundingBox();
    assert.ok(revoke.height < 40, `the revoke button is not broken letter by letter (${revoke.height}px high)`);
  } finally {
    await context.close();
  }
});

test('the back office fits a phone', async () => {
  const { context, page } = await newPage(browser, PHONE);
  try {
    await login(page, USERS.staffAdmin);
    await checkPhone(page, '/back-office', 'phone-back-office');
    await checkPhone(page, '/back-office/messages', 'phone-back-office-messages');
    await checkPhone(page, '/back-office/price-lists', 'phone-back-office-price-lists');
    await page.goto('/back-office');
    const org = await page.getByRole('link', { name: ORG_A }).getAttribute('href');
    await checkPhone(page, `${org}/orders/new`, 'phone-back-office-order-form');
  } finally {
    await context.close();
  }
});
