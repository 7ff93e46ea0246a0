//! Money rounding and formatting shared by both documents.
//!
//! R2.12: every amount is rounded to the cent once, half away from zero.
//! `Decimal::round_dp` defaults to banker's rounding (26.665 -> 26.66), which
//! would disagree with the contract and with what a French accountant computes
//! by hand, so every rounding in this crate goes through [`round_cents`].

use rust_decimal::{Decimal, RoundingStrategy};

/// Rounds to the cent, half away from zero (R2.12).
pub fn round_cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Formats an amount with exactly two decimals and a dot, as both CII
/// (BR-FR-DEC-01) and ISO 20022 (`ActiveOrHistoricCurrencyAndAmount`) expect.
/// The amount is rounded first, so the text never carries more than the cent.
pub fn format_cents(amount: Decimal) -> String {
    let mut rounded = round_cents(amount);
    rounded.rescale(2);
    rounded.to_string()
}

/// Formats a decimal without trailing zeros beyond `min_dp` decimals (unit
/// prices and quantities keep their significant decimals, but never less than
/// `min_dp`, so "1" reads "1" for a quantity and "12.50" for a price).
pub(crate) fn format_decimal(value: Decimal, min_dp: u32) -> String {
    let mut normalized = value.normalize();
    if normalized.scale() < min_dp {
        normalized.rescale(min_dp);
    }
    normalized.to_string()
}

/// True when the value carries no more than `dp` significant decimals.
pub(crate) fn has_at_most_dp(value: Decimal, dp: u32) -> bool {
    value.normalize().scale() <= dp
}
