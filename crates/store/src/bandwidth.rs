//! Bandwidth readings packed by port and Paris day (R2.8).
//!
//! Ten thousand ports read every 5 minutes make 89 million readings a month.
//! One row per reading made the month close read 89 million rows (about two
//! minutes through sqlx) and made each reading a B-tree insert keyed by port,
//! scattered across the tree when a metering platform pushes every port's
//! latest slot at once. Here a row holds one port's Paris day: a slot of
//! 16 bytes per reading interval (in, then out, bits/s, little-endian `u64`;
//! `u64::MAX` marks a slot without reading), so a month is 31 rows a port,
//! the close reads ~1.4 GB of packed integers instead of 89 million rows, and
//! a push rewrites one small blob per (port, day) it touches.
//!
//! The first reading of a slot wins (a replay, even with other values, is
//! left as stored), as `ON CONFLICT DO NOTHING` did on the row table. A day
//! keeps the slot length it was created with (`step_ms`, the terms'
//! `reading_interval_minutes` at the time).

use crate::{Backend, Result, StoreError, Tx};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use sqlx::{Any, Executor, Row};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

/// Bytes of one slot: in and out, `u64` little-endian each.
pub const SLOT_BYTES: usize = 16;

/// The mark of a slot without reading.
const EMPTY: u64 = u64::MAX;

/// Ports per read statement of the days a push touches.
const PORTS_PER_LOAD: usize = 500;

/// Day rows per write statement (one bound blob each: SQLite finds a
/// parameter by comparing names, so many per statement cost quadratically).
const ROWS_PER_WRITE: usize = 32;

/// Ports per read statement when streaming a month.
pub const PORTS_PER_READ: usize = 50;

/// The advisory lock that serialises bandwidth writers on PostgreSQL (a
/// day is read, merged and written back: two writers must not interleave).
/// SQLite has one writer connection.
const PG_LOCK_KEY: i64 = 0x6369_656c_6277; // "cielbw"

fn paris() -> &'static TimeZone {
    static TZ: OnceLock<TimeZone> = OnceLock::new();
    TZ.get_or_init(|| TimeZone::get("Europe/Paris").unwrap_or(TimeZone::UTC))
}

/// A Paris calendar day: its key (`YYYYMMDD`) and its UTC bounds in ms
/// (23, 24 or 25 hours long).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day {
    pub key: i32,
    pub start_ms: i64,
    pub end_ms: i64,
}

impl Day {
    /// The Paris day holding the instant `at_ms`.
    pub fn of(at_ms: i64) -> Day {
        let tz = paris();
        let ts = crate::time::from_db(at_ms);
        let date = ts.to_zoned(tz.clone()).date();
        let start = date
            .to_zoned(tz.clone())
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(at_ms);
        let end = date
            .tomorrow()
            .ok()
            .and_then(|d| d.to_zoned(tz.clone()).ok())
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(start + 86_400_000);
        Day {
            key: i32::from(date.year()) * 10_000
                + i32::from(date.month()) * 100
                + i32::from(date.day()),
            start_ms: start,
            end_ms: end,
        }
    }

    /// Slots of `step_ms` in this day (the last one may be cut short).
    pub fn slots(&self, step_ms: i64) -> usize {
        usize::try_from((self.end_ms - self.start_ms + step_ms - 1) / step_ms.max(1)).unwrap_or(0)
    }
}

/// Finds the Paris day of instants that mostly fall in a few days, without
/// a time-zone lookup for each (a push holds one or a few days).
#[derive(Debug, Default)]
pub struct Days {
    known: Vec<Day>,
}

impl Days {
    pub fn of(&mut self, at_ms: i64) -> Day {
        if let Some(d) = self
            .known
            .iter()
            .find(|d| d.start_ms <= at_ms && at_ms < d.end_ms)
        {
            return *d;
        }
        let d = Day::of(at_ms);
        self.known.push(d);
        d
    }
}

/// One port's day of readings, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedDay {
    pub start_ms: i64,
    pub step_ms: i64,
    /// Slots holding a reading.
    pub readings: i64,
    pub data: Vec<u8>,
}

impl PackedDay {
    /// An empty day of `day.slots(step_ms)` slots.
    pub fn empty(day: &Day, step_ms: i64) -> PackedDay {
        let step_ms = step_ms.max(1);
        PackedDay {
            start_ms: day.start_ms,
            step_ms,
            readings: 0,
            data: vec![0xff; day.slots(step_ms) * SLOT_BYTES],
        }
    }

    fn slot_count(&self) -> usize {
        self.data.len() / SLOT_BYTES
    }

    /// Stores a reading at the slot holding `at_ms` unless it holds one
    /// already (the first wins); whether it was stored. Instants outside
    /// the day and negative values are not stored (the caller checked them).
    pub fn put(&mut self, at_ms: i64, in_bps: i64, out_bps: i64) -> bool {
        let (Ok(i), Ok(o)) = (u64::try_from(in_bps), u64::try_from(out_bps)) else {
            return false;
        };
        let Ok(slot) = usize::try_from((at_ms - self.start_ms).div_euclid(self.step_ms)) else {
            return false;
        };
        if at_ms < self.start_ms || slot >= self.slot_count() {
            return false;
        }
        let at = slot * SLOT_BYTES;
        if read_u64(&self.data[at..at + 8]) != EMPTY {
            return false;
        }
        self.data[at..at + 8].copy_from_slice(&i.to_le_bytes());
        self.data[at + 8..at + 16].copy_from_slice(&o.to_le_bytes());
        self.readings += 1;
        true
    }

    /// The readings of the day: (slot start in UTC ms, in, out), in order.
    pub fn readings(&self) -> impl Iterator<Item = (i64, u64, u64)> + '_ {
        let (start, step) = (self.start_ms, self.step_ms);
        self.data
            .chunks_exact(SLOT_BYTES)
            .enumerate()
            .filter_map(move |(k, s)| {
                let i = read_u64(&s[..8]);
                (i != EMPTY).then(|| {
                    let k = i64::try_from(k).unwrap_or(i64::MAX);
                    (start + k * step, i, read_u64(&s[8..]))
                })
            })
    }
}

fn read_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// One reading to store: port, instant (UTC ms), in and out bits/s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub port: i64,
    pub at_ms: i64,
    pub in_bps: i64,
    pub out_bps: i64,
}

/// Writes readings (a day's slot taken by an earlier reading keeps it);
/// returns how many were stored. `step_ms` is the slot length of days
/// created now.
pub async fn insert(tx: &mut Tx, backend: Backend, rows: &[Reading], step_ms: i64) -> Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    if backend == Backend::Postgres {
        sqlx::query(&format!("SELECT pg_advisory_xact_lock({PG_LOCK_KEY})"))
            .execute(&mut **tx)
            .await?;
    }
    let mut days = Days::default();
    let mut by_key: BTreeMap<(i64, i32), (Day, Vec<usize>)> = BTreeMap::new();
    for (n, r) in rows.iter().enumerate() {
        let d = days.of(r.at_ms);
        by_key
            .entry((r.port, d.key))
            .or_insert_with(|| (d, Vec::new()))
            .1
            .push(n);
    }
    let keys: Vec<(i64, i32)> = by_key.keys().copied().collect();
    let mut stored = load(tx, &keys).await?;
    let mut written = 0u64;
    let mut changed: Vec<((i64, i32), PackedDay)> = Vec::new();
    for (key, (day, idx)) in by_key {
        let mut packed = stored
            .remove(&key)
            .unwrap_or_else(|| PackedDay::empty(&day, step_ms));
        let before = packed.readings;
        for n in idx {
            let r = rows[n];
            packed.put(r.at_ms, r.in_bps, r.out_bps);
        }
        if packed.readings > before {
            written += u64::try_from(packed.readings - before).unwrap_or(0);
            changed.push((key, packed));
        }
    }
    save(tx, &changed).await?;
    Ok(written)
}

/// The stored days of the given (port, day) keys, sorted: read by groups of
/// ports over the keys' range of days (a short SQL text, fast to parse),
/// the days not asked for dropped.
async fn load(tx: &mut Tx, keys: &[(i64, i32)]) -> Result<BTreeMap<(i64, i32), PackedDay>> {
    let mut out = BTreeMap::new();
    let wanted: std::collections::BTreeSet<(i64, i32)> = keys.iter().copied().collect();
    let mut ports: Vec<i64> = keys.iter().map(|k| k.0).collect();
    ports.dedup();
    let (Some(d0), Some(d1)) = (
        keys.iter().map(|k| k.1).min(),
        keys.iter().map(|k| k.1).max(),
    ) else {
        return Ok(out);
    };
    let mut text = String::new();
    for chunk in ports.chunks(PORTS_PER_LOAD) {
        days_query(&mut text, chunk, d0, d1);
        for r in sqlx::query(&text)
            .persistent(false)
            .fetch_all(&mut **tx)
            .await?
        {
            let key = (r.try_get(0)?, day_of_row(&r)?);
            if wanted.contains(&key) {
                out.insert(key, packed_of_row(&r, 2)?);
            }
        }
    }
    Ok(out)
}

/// The SELECT of the days `d0..=d1` of `ports`, by port and day, into
/// `text` (integers only, as literals: nothing of a request reaches it).
fn days_query(text: &mut String, ports: &[i64], d0: i32, d1: i32) {
    text.clear();
    text.push_str(
        "SELECT port_num, day, start_at, step_ms, readings, data FROM bandwidth_days \
         WHERE port_num IN (",
    );
    for (i, p) in ports.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        let _ = write!(text, "{p}");
    }
    let _ = write!(
        text,
        ") AND day >= {d0} AND day <= {d1} ORDER BY port_num, day"
    );
}

fn day_of_row(r: &sqlx::any::AnyRow) -> Result<i32> {
    let d: i64 = r.try_get(1)?;
    i32::try_from(d).map_err(|_| StoreError::Corrupt(format!("bandwidth day {d}")))
}

/// The packed day of a row whose columns from `at` are start_at, step_ms,
/// readings, data.
fn packed_of_row(r: &sqlx::any::AnyRow, at: usize) -> Result<PackedDay> {
    let p = PackedDay {
        start_ms: r.try_get(at)?,
        step_ms: r.try_get(at + 1)?,
        readings: r.try_get(at + 2)?,
        data: r.try_get(at + 3)?,
    };
    if p.step_ms <= 0 || !p.data.len().is_multiple_of(SLOT_BYTES) {
        return Err(StoreError::Corrupt("bandwidth day of a bad shape".into()));
    }
    Ok(p)
}

/// Writes days (new or merged) in statements of [`ROWS_PER_WRITE`].
async fn save(tx: &mut Tx, days: &[((i64, i32), PackedDay)]) -> Result<()> {
    let mut text = String::new();
    for chunk in days.chunks(ROWS_PER_WRITE) {
        text.clear();
        text.push_str(
            "INSERT INTO bandwidth_days (port_num, day, start_at, step_ms, readings, data) VALUES ",
        );
        for (i, ((port, day), p)) in chunk.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            // Integers as literals, the blob bound.
            let _ = write!(
                text,
                "({port}, {day}, {}, {}, {}, ${})",
                p.start_ms,
                p.step_ms,
                p.readings,
                i + 1
            );
        }
        text.push_str(
            " ON CONFLICT (port_num, day) DO UPDATE SET readings = excluded.readings, \
             data = excluded.data",
        );
        let mut q = sqlx::query(&text).persistent(false);
        for (_, p) in chunk {
            q = q.bind(p.data.as_slice());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The Paris day keys covering `[from, to)`.
fn day_range(from: Timestamp, to: Timestamp) -> (i32, i32) {
    let first = Day::of(from.as_millisecond()).key;
    let last = Day::of(
        to.as_millisecond()
            .saturating_sub(1)
            .max(from.as_millisecond()),
    )
    .key;
    (first, last)
}

/// Calls `f(port, in, out)` for each of `ports` with its readings in
/// `[from, to)` (bits/s), reading [`PORTS_PER_READ`] ports a statement, so
/// only one group of ports is in memory at a time.
pub async fn for_each_port<'e, E, F>(
    ex: E,
    ports: &[i64],
    from: Timestamp,
    to: Timestamp,
    mut f: F,
) -> Result<()>
where
    E: Executor<'e, Database = Any> + Copy,
    F: FnMut(i64, &mut Vec<u64>, &mut Vec<u64>),
{
    let (d0, d1) = day_range(from, to);
    let (from, to) = (from.as_millisecond(), to.as_millisecond());
    let (mut ins, mut outs) = (Vec::new(), Vec::new());
    let mut text = String::new();
    for chunk in ports.chunks(PORTS_PER_READ) {
        days_query(&mut text, chunk, d0, d1);
        let rows = sqlx::query(&text).persistent(false).fetch_all(ex).await?;
        let mut rows = rows.iter().peekable();
        for p in chunk {
            ins.clear();
            outs.clear();
            while let Some(r) = rows.next_if(|r| r.try_get::<i64, _>(0).is_ok_and(|n| n == *p)) {
                for (at, i, o) in packed_of_row(r, 2)?.readings() {
                    if (from..to).contains(&at) {
                        ins.push(i);
                        outs.push(o);
                    }
                }
            }
            f(*p, &mut ins, &mut outs);
        }
    }
    Ok(())
}

/// The readings of one port in `[from, to)`, by instant: (at ms, in, out).
pub async fn of_port<'e, E: Executor<'e, Database = Any>>(
    ex: E,
    port: i64,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<(i64, i64, i64)>> {
    let (d0, d1) = day_range(from, to);
    let (from, to) = (from.as_millisecond(), to.as_millisecond());
    let mut text = String::new();
    days_query(&mut text, &[port], d0, d1);
    let mut out = Vec::new();
    for r in sqlx::query(&text).persistent(false).fetch_all(ex).await? {
        for (at, i, o) in packed_of_row(&r, 2)?.readings() {
            if (from..to).contains(&at) {
                let i = i64::try_from(i).unwrap_or(i64::MAX);
                out.push((at, i, i64::try_from(o).unwrap_or(i64::MAX)));
            }
        }
    }
    Ok(out)
}

/// Moves the readings of the former one-row-per-reading table
/// (`bandwidth_readings`, migrations 0017-0021) into packed days, a chunk a
/// transaction, each chunk deleted where it was packed: re-run after a
/// crash, it goes on where it stopped. Those readings were aligned on the
/// terms' 5-minute interval.
pub async fn pack_legacy(store: &crate::Store) -> Result<u64> {
    const CHUNK: i64 = 100_000;
    let mut moved = 0u64;
    loop {
        let mut tx = store.begin().await?;
        let rows: Vec<Reading> = sqlx::query(&format!(
            "SELECT port_num, at, in_bps, out_bps FROM bandwidth_readings \
             ORDER BY port_num, at LIMIT {CHUNK}"
        ))
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| {
            Ok(Reading {
                port: r.try_get(0)?,
                at_ms: r.try_get(1)?,
                in_bps: r.try_get(2)?,
                out_bps: r.try_get(3)?,
            })
        })
        .collect::<Result<_>>()?;
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(moved);
        };
        insert(&mut tx, store.backend(), &rows, 300_000).await?;
        sqlx::query(&format!(
            "DELETE FROM bandwidth_readings WHERE (port_num > {} OR (port_num = {} AND at >= {})) \
             AND (port_num < {} OR (port_num = {} AND at <= {}))",
            first.port, first.port, first.at_ms, last.port, last.port, last.at_ms
        ))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        moved += rows.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn a_paris_day_has_23_24_or_25_hours() {
        // 29 March 2026: clocks go forward (276 five-minute slots).
        let d = Day::of(ms("2026-03-29T12:00:00Z"));
        assert_eq!(d.key, 20260329);
        assert_eq!(d.start_ms, ms("2026-03-28T23:00:00Z"));
        assert_eq!(d.end_ms, ms("2026-03-29T22:00:00Z"));
        assert_eq!(d.slots(300_000), 276);
        // 25 October 2026: clocks go back (300 slots).
        let d = Day::of(ms("2026-10-25T12:00:00Z"));
        assert_eq!(
            (d.start_ms, d.end_ms),
            (ms("2026-10-24T22:00:00Z"), ms("2026-10-25T23:00:00Z"))
        );
        assert_eq!(d.slots(300_000), 300);
        // A summer day, and the instant at its very start and just before.
        let d = Day::of(ms("2026-06-01T00:30:00Z"));
        assert_eq!((d.key, d.slots(300_000)), (20260601, 288));
        assert_eq!(Day::of(ms("2026-05-31T22:00:00Z")).key, 20260601);
        assert_eq!(Day::of(ms("2026-05-31T21:59:59.999Z")).key, 20260531);
    }

    #[test]
    fn the_first_reading_of_a_slot_wins_and_only_slots_of_the_day_are_kept() {
        let day = Day::of(ms("2026-06-01T10:00:00Z"));
        let mut p = PackedDay::empty(&day, 300_000);
        assert_eq!(p.data.len(), 288 * SLOT_BYTES);
        let at = ms("2026-06-01T10:05:00Z");
        assert!(p.put(at, 100, 200));
        assert!(!p.put(at, 999, 999), "a replay keeps the first reading");
        assert!(!p.put(at + 299_999, 5, 5), "same slot");
        assert!(p.put(day.start_ms, 0, 0), "a zero reading is a reading");
        assert!(p.put(day.end_ms - 1, 7, 8), "the last slot");
        assert!(!p.put(day.end_ms, 1, 1), "the next day");
        assert!(!p.put(day.start_ms - 1, 1, 1), "the day before");
        assert!(!p.put(at + 600_000, -1, 1), "negative");
        assert_eq!(p.readings, 3);
        let got: Vec<_> = p.readings().collect();
        assert_eq!(
            got,
            vec![
                (day.start_ms, 0, 0),
                (at, 100, 200),
                (day.end_ms - 300_000, 7, 8)
            ]
        );
    }

    #[test]
    fn days_reuses_the_day_it_found() {
        let mut days = Days::default();
        let a = days.of(ms("2026-06-01T10:00:00Z"));
        let b = days.of(ms("2026-06-01T20:00:00Z"));
        let c = days.of(ms("2026-06-02T10:00:00Z"));
        assert_eq!(a, b);
        assert_ne!(a.key, c.key);
        assert_eq!(days.known.len(), 2);
    }

    async fn temp_store() -> (tempfile::TempDir, crate::Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let store = crate::Store::connect(&url, 2).await.unwrap();
        store.migrate().await.unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn a_month_is_read_back_across_its_dst_day_and_a_replay_is_stored_once() {
        let (_dir, store) = temp_store().await;
        // October 2026 in Paris: 31 days, the 25th has 25 hours, so 8 940
        // five-minute slots from 30 Sep 22:00 UTC to 31 Oct 23:00 UTC.
        let from = ms("2026-09-30T22:00:00Z");
        let to = ms("2026-10-31T23:00:00Z");
        let slots = (to - from) / 300_000;
        assert_eq!(slots, 8940);
        let rows: Vec<Reading> = (-2..slots + 2)
            .map(|k| Reading {
                port: 7,
                at_ms: from + k * 300_000,
                // The readings outside the month are not negative: k.abs().
                in_bps: k.abs(),
                out_bps: 2 * k.abs(),
            })
            .collect();
        let mut tx = store.begin().await.unwrap();
        let n = insert(&mut tx, store.backend(), &rows, 300_000)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(n, rows.len() as u64);
        // A replay with other values: nothing stored, the first kept.
        let replay: Vec<Reading> = rows.iter().map(|r| Reading { in_bps: 1, ..*r }).collect();
        let mut tx = store.begin().await.unwrap();
        let again = insert(&mut tx, store.backend(), &replay, 300_000)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(again, 0);
        let (f, t) = (crate::time::from_db(from), crate::time::from_db(to));
        let mut seen = Vec::new();
        for_each_port(store.db(), &[7, 8], f, t, |p, i, o| {
            seen.push((p, i.len(), i.iter().max().copied(), o.first().copied()));
        })
        .await
        .unwrap();
        assert_eq!(
            seen,
            vec![(7, 8940, Some(8939), Some(0)), (8, 0, None, None)]
        );
        let one = of_port(store.db(), 7, f, t).await.unwrap();
        assert_eq!(one.len(), 8940);
        assert_eq!(one[0], (from, 0, 0));
        assert_eq!(one[8939], (to - 300_000, 8939, 2 * 8939));
    }

    #[tokio::test]
    async fn readings_of_the_former_table_are_packed_once_at_start_up() {
        let (_dir, store) = temp_store().await;
        let at = ms("2026-06-01T10:00:00Z");
        sqlx::query(&format!(
            "INSERT INTO bandwidth_readings (port_num, at, in_bps, out_bps) VALUES \
             (1, {at}, 10, 20), (1, {}, 11, 21), (2, {at}, 30, 40)",
            at + 300_000
        ))
        .execute(store.writer())
        .await
        .unwrap();
        assert_eq!(pack_legacy(&store).await.unwrap(), 3);
        assert_eq!(pack_legacy(&store).await.unwrap(), 0, "nothing left");
        let day = Day::of(at);
        let (f, t) = (
            crate::time::from_db(day.start_ms),
            crate::time::from_db(day.end_ms),
        );
        assert_eq!(
            of_port(store.db(), 1, f, t).await.unwrap(),
            vec![(at, 10, 20), (at + 300_000, 11, 21)]
        );
        assert_eq!(
            of_port(store.db(), 2, f, t).await.unwrap(),
            vec![(at, 30, 40)]
        );
    }
}
