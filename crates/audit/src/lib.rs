//! zicht-audit (being written).
