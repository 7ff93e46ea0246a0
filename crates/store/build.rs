//! `sqlx::migrate!` embeds the migration files at compile time; without this,
//! cargo would not notice a new migration file and keep the old set.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
