//! The back office's tariff and order forms (issue 4, item 8), through HTTP
//! as a browser without JavaScript: a refused publication (R2.2) and option
//! rules (R9.2, R12.1) shown next to their fields with the typed values
//! kept, then a tariff published and an order drafted that the list shows.

use crate::support::*;
use serde_json::Value;

fn textarea(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\"");
    let after = page.split(&marker).nth(1).unwrap_or_default();
    let body = after.split_once('>').map(|(_, b)| b).unwrap_or_default();
    body.split("</textarea>")
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

pub async fn staff_publish_a_tariff_and_draft_an_order_from_the_back_office(b: Backend) {
    let app = TestApp::start(b).await;
    let staff = app.login(STAFF_SUPPORT, DEMO_PASSWORD).await;
    let admin_a = app.login(ADMIN_A, DEMO_PASSWORD).await;
    let org_a = org_of(&admin_a).await;

    // The tariff page shows the demo version, its tiers, and the catalogue's
    // SKUs; the form starts from the latest version.
    let page = staff.get("/back-office/price-lists").await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Tarif de démonstration 2026"), "{page}");
    assert!(page.contains("cloud_vm.dual_dc.vcpu") && page.contains("dedicated_server.setup"));
    let prices = textarea(&page, "prices");
    assert!(prices.contains("backup.storage_gb 0.05\n"), "{prices}");
    assert!(
        prices.contains("cloud_vm.mono_site.storage_gb 0.08 - 20\n"),
        "{prices}"
    );
    let changed = prices.replace("backup.storage_gb 0.05\n", "backup.storage_gb 0.06\n");

    // Less than 30 days' notice (R2.2): refused next to the date, nothing lost.
    let r = staff
        .form(
            "/back-office/price-lists",
            &[
                ("name", "Tarif juin"),
                ("effective_from", "2026-06-01"),
                ("prices", &changed),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("id=\"effective-error\"") && page.contains("R2.2"),
        "{page}"
    );
    assert!(page.contains("aria-invalid=\"true\""));
    assert!(page.contains("value=\"Tarif juin\"") && page.contains("value=\"2026-06-01\""));
    assert!(textarea(&page, "prices").contains("backup.storage_gb 0.06\n"));
    // A line that is not `SKU price [up_to] [flat]` is shown next to the prices.
    let r = staff
        .form(
            "/back-office/price-lists",
            &[
                ("name", "Tarif juin"),
                ("effective_from", "2026-07-01"),
                ("prices", "backup.storage_gb"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("id=\"prices-error\""));
    let (_, lists) = staff.get_json("/api/v1/price-lists").await;
    assert_eq!(
        lists["items"].as_array().unwrap().len(),
        1,
        "nothing written"
    );
    // 30 days' notice: published, and listed with its notice instant.
    let r = staff
        .form(
            "/back-office/price-lists",
            &[
                ("name", "Tarif juin"),
                ("effective_from", "2026-06-07"),
                ("prices", &changed),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).contains("flash=tariffs.published"));
    let page = staff
        .get("/back-office/price-lists")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Tarif juin") && page.contains("07/05/2026 17:30"),
        "{page}"
    );

    // The order form, from the organisation's page.
    let page = staff
        .get(&format!("/back-office/organizations/{org_a}"))
        .await
        .text()
        .await
        .unwrap();
    let new = format!("/back-office/organizations/{org_a}/orders/new");
    assert!(page.contains(&new));
    let page = staff.get(&new).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("name=\"l4_kind\""));
    let orders = format!("/back-office/organizations/{org_a}/orders");
    let lines =
        |immutability: &'static str, vpn: &'static str| -> Vec<(&'static str, &'static str)> {
            vec![
                ("kind", "initial"),
                ("l0_kind", "external_backup"),
                ("l0_quantity", "1"),
                ("l0_commitment", "12"),
                ("l0_storage_gb", "500"),
                ("l0_immutability", immutability),
                ("l1_kind", ""),
                ("l2_kind", "cloud_connect"),
                ("l2_quantity", "1"),
                ("l2_commitment", "12"),
                ("l2_vpn_mpls_contract_ref", vpn),
                ("l3_kind", "support"),
                ("l3_quantity", "1"),
                ("l3_commitment", "12"),
                ("l3_level", "premium"),
            ]
        };
    // A special condition out of range is shown next to its field.
    let mut fields = lines("P6M", "MPLS-4521");
    fields.push(("order_acceptance_days", "0"));
    let r = staff.form(&orders, &fields).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("id=\"acceptance-error\"") && page.contains("R1.3"),
        "{page}"
    );
    // Immutability beyond 6 months (R9.2) and Cloud Connect without its VPN
    // MPLS contract (R12.1): each next to its row (the empty row skipped),
    // every typed value kept.
    let r = staff.form(&orders, &lines("P12M", "")).await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.unwrap();
    let row = |n: usize| {
        page.split(&format!("<legend>Ligne {n}</legend>"))
            .nth(1)
            .and_then(|r| r.split("</fieldset>").next())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        row(1).contains("R9.2") && row(1).contains("value=\"P12M\""),
        "{}",
        row(1)
    );
    assert!(
        row(3).contains("R12.1") && !row(1).contains("R12.1"),
        "{}",
        row(3)
    );
    assert!(!row(2).contains("class=\"error\"") && !row(4).contains("class=\"error\""));
    assert!(row(4).contains("value=\"premium\" selected"));
    // A valid order: drafted, priced at the tariff in force, listed.
    let r = staff.form(&orders, &lines("P6M", "MPLS-4521")).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let to = location(&r);
    assert!(to.contains("flash=orders.drafted"), "{to}");
    let id = to
        .trim_start_matches("/back-office/orders/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let (status, o): (u16, Value) = staff.get_json(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(status, 200, "{o}");
    assert_eq!(o["state"], "draft");
    assert_eq!(o["lines"].as_array().unwrap().len(), 3);
    // 500 GB at 0.05 plus immutability at 0.02 a GB (demo tariff, 7 May).
    assert_eq!(o["lines"][0]["unit_price"], "35");
    let page = staff.get(&orders).await.text().await.unwrap();
    assert!(page.contains(&id));

    // Clients have no back office.
    for path in ["/back-office/price-lists", new.as_str()] {
        assert_eq!(admin_a.get(path).await.status(), 404, "{path}");
    }
    app.stop().await;
}
