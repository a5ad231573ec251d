//! Each field's contribution to a filter, remembered by the raw cell.
//!
//! A field's bits (before hardening) depend only on the field and the bytes
//! of its cell, unless salting mixes in another field. Registries repeat
//! values all the time (given names, family names, places, dates, codes),
//! so the encoder keeps, per worker thread, a small two-way set-associative
//! table per field (least recently used way replaced) from the cell's bytes
//! to the normalised value and the field's bits. A hit costs a hash, a comparison and an OR of the filter's words
//! instead of normalisation, tokenisation and one cache lookup per token.
//!
//! A table starts small ([`FIRST_SLOTS`] entries, so that fields with
//! few values stay in the CPU's caches) and doubles when it keeps
//! replacing entries (half its size within [`REPLACEMENT_SPAN`] times its
//! size in lookups), up to [`MAX_SLOTS`]
//! entries, while all tables of the thread stay within [`BUDGET`]
//! bytes of slots and none takes more than half of it: an address
//! (thousands of values) gets a large table, a sex code a tiny one. (Dates
//! need none: [`DateTable`] builds them from two parts.) Every [`WINDOW`] lookups a field decides
//! whether its table pays: one whose values hardly repeat (document
//! numbers, postcodes: fewer than one hit in [`MIN_HIT_RATE_GROWING`]),
//! or that cannot grow and hits less than one lookup in [`MIN_HIT_RATE`],
//! stops using it. The cache never changes a result: an entry holds
//! exactly what the uncached path computes (tests compare the two byte for
//! byte). Cells whose value is an error are not remembered.
//!
//! The cells that miss go through a per-thread token table
//! ([`TokenTable`]) and, for positional unigrams, a directly indexed
//! [`UnigramTable`].
//!
//! Entries hold plaintext values, like the token-position cache: they live
//! in the encoder (on the agency's premises) and die with it; `Debug` is
//! redacted.

use std::hash::Hasher;

use rustc_hash::FxHasher;

/// Entries of a field's table when first used (a power of two).
const FIRST_SLOTS: usize = 1 << 6;
/// Entries per field and thread, at most (a power of two).
const MAX_SLOTS: usize = 1 << 15;
/// Bytes of one thread's field tables (their slots: hashes, entries and
/// bits; not the heap parts of long cells and of values), at most.
const BUDGET: usize = 16 << 20;
/// A table grows when it replaces half its size in entries within this
/// many times its size in lookups.
const REPLACEMENT_SPAN: usize = 8;
/// Lookups per field between decisions on whether the table pays.
const WINDOW: u32 = 4096;
/// A table that can still grow is kept while at least one lookup in this
/// many hits (its values repeat, if not yet within its reach) ...
const MIN_HIT_RATE_GROWING: u32 = 64;
/// ... and one that cannot while at least one in this many hits.
const MIN_HIT_RATE: u32 = 8;

/// OR `bits` into `words` (a remembered field or part into a filter).
#[inline]
pub(crate) fn or_into(words: &mut [u64], bits: &[u64]) {
    for (word, &bit) in words.iter_mut().zip(bits) {
        *word |= bit;
    }
}

/// A remembered cell found by [`ValueCache::get`].
pub(crate) struct Hit<'a, V> {
    /// The normalised value (`None`: missing).
    pub(crate) value: Option<&'a V>,
    /// The field's bits, one word per filter word (empty when the field
    /// is not encoded).
    pub(crate) bits: &'a [u64],
}

/// A remembered cell and its normalised value (`None`: missing).
type Remembered<V> = (StoredCell, Option<V>);

/// A remembered cell's bytes: inline when short (most cells are), so that
/// comparing them follows no pointer.
enum StoredCell {
    Inline { len: u8, bytes: [u8; 22] },
    Heap(Box<[u8]>),
}

impl StoredCell {
    fn new(cell: &[u8]) -> StoredCell {
        if cell.len() <= 22 {
            let mut bytes = [0; 22];
            bytes[..cell.len()].copy_from_slice(cell);
            StoredCell::Inline {
                len: cell.len() as u8,
                bytes,
            }
        } else {
            StoredCell::Heap(cell.into())
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            StoredCell::Inline { len, bytes } => &bytes[..usize::from(*len)],
            StoredCell::Heap(bytes) => bytes,
        }
    }
}

/// One field's table: two ways per set (set `s` is slots `2s` and
/// `2s + 1`), laid out so that a lookup touches little memory: a dense
/// array of hashes, then the slot's cell and value, and its bits in one
/// flat array.
struct Table<V> {
    /// Per slot: the cell's hash with the low bit set; 0 when empty.
    hashes: Vec<u64>,
    /// Per slot: the cell and its value.
    entries: Vec<Option<Remembered<V>>>,
    /// Per slot: `width` words of bits.
    bits: Vec<u64>,
    width: usize,
    /// Per set, the way used last (the other one is replaced).
    recent: Vec<u8>,
    /// Number of sets (a power of two; 0 until the first insert).
    sets: usize,
    /// Lookups and hits in the current window.
    lookups: u32,
    hits: u32,
    /// Entries replaced, and lookups, since the table last grew (or
    /// since [`REPLACEMENT_SPAN`] times its size in lookups passed).
    replaced: usize,
    since: usize,
    enabled: bool,
}

impl<V> Table<V> {
    fn new() -> Table<V> {
        Table {
            hashes: Vec::new(),
            entries: Vec::new(),
            bits: Vec::new(),
            width: 0,
            recent: Vec::new(),
            sets: 0,
            lookups: 0,
            hits: 0,
            replaced: 0,
            since: 0,
            enabled: true,
        }
    }

    /// Bytes of a table of `slots` slots of `width` words.
    fn bytes_for(slots: usize, width: usize) -> usize {
        slots * (8 + std::mem::size_of::<Option<Remembered<V>>>() + 8 * width + 1)
    }

    /// Bytes this table holds.
    fn bytes(&self) -> usize {
        Self::bytes_for(self.hashes.len(), self.width)
    }

    /// Empty slots: `slots` of them, `width` words of bits each.
    fn allocate(&mut self, slots: usize, width: usize) {
        self.sets = slots / 2;
        self.hashes = vec![0; slots];
        self.entries = Vec::new();
        self.entries.resize_with(slots, || None);
        self.width = width;
        self.bits = vec![0; slots * width];
        self.recent = vec![0; slots / 2];
    }

    /// The set of a hash.
    #[inline]
    fn set_of(&self, hash: u64) -> usize {
        // FxHash's high bits mix best.
        (hash >> 40) as usize & (self.sets - 1)
    }

    /// The slot holding `cell` (with hash `hash`), if any.
    #[inline]
    fn find(&self, hash: u64, cell: &[u8]) -> Option<usize> {
        if self.sets == 0 {
            return None;
        }
        let set = self.set_of(hash);
        (2 * set..2 * set + 2).find(|&slot| {
            self.hashes.get(slot) == Some(&hash)
                && self.entries[slot]
                    .as_ref()
                    .is_some_and(|(stored, _)| same_bytes(stored.bytes(), cell))
        })
    }

    /// The slot for a new entry with hash `hash`: an empty way of its set,
    /// else the one not used last (counted as replaced). Marks it used.
    fn place(&mut self, hash: u64) -> usize {
        let set = self.set_of(hash);
        let way = if self.hashes[2 * set] == 0 {
            0
        } else if self.hashes[2 * set + 1] == 0 {
            1
        } else {
            self.replaced += 1;
            1 - usize::from(self.recent[set])
        };
        self.recent[set] = way as u8;
        2 * set + way
    }

    /// Double the table, keeping its entries (those that still fit).
    fn grow(&mut self) {
        let mut old = std::mem::replace(self, Table::new());
        self.lookups = old.lookups;
        self.hits = old.hits;
        self.allocate(2 * old.hashes.len(), old.width);
        let width = old.width;
        for (slot, &hash) in old.hashes.iter().enumerate() {
            if hash == 0 {
                continue;
            }
            let new_slot = self.place(hash);
            self.hashes[new_slot] = hash;
            self.entries[new_slot] = old.entries[slot].take();
            self.bits[new_slot * width..(new_slot + 1) * width]
                .copy_from_slice(&old.bits[slot * width..(slot + 1) * width]);
        }
        self.replaced = 0;
        self.since = 0;
    }
}

/// The tables of one worker thread, one per schema field, and its token
/// positions.
pub(crate) struct ValueCache<V> {
    tables: Vec<Table<V>>,
    /// Bytes the tables hold, together.
    bytes: usize,
    /// Token positions, for the cells that miss.
    pub(crate) tokens: TokenTable,
    /// Scratch for a missed cell's bits.
    pub(crate) scratch: Vec<u64>,
    /// Positions of positional unigrams by field, position and byte.
    pub(crate) unigrams: UnigramTable,
    /// Bits of dates by field and part.
    pub(crate) dates: DateTable,
    /// Positions of ASCII bigrams by field and bytes.
    pub(crate) bigrams: BigramTable,
}

impl<V> std::fmt::Debug for ValueCache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ValueCache(<redacted>)")
    }
}

/// `a == b`, inlined: cells and tokens are short, and a call to `memcmp`
/// costs more than comparing them here.
#[inline]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut a_words = a.chunks_exact(8);
    let mut b_words = b.chunks_exact(8);
    for (x, y) in (&mut a_words).zip(&mut b_words) {
        if x != y {
            return false;
        }
    }
    a_words
        .remainder()
        .iter()
        .zip(b_words.remainder())
        .all(|(x, y)| x == y)
}

/// The hash of `cell`, never 0 (0 marks an empty slot).
fn hash_of(cell: &[u8]) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(cell);
    hasher.write_u8(0xff);
    hasher.finish() | 1
}

impl<V> ValueCache<V> {
    /// Empty tables for `fields` fields.
    pub(crate) fn new(fields: usize) -> ValueCache<V> {
        ValueCache {
            tables: (0..fields).map(|_| Table::new()).collect(),
            bytes: 0,
            tokens: TokenTable::default(),
            scratch: Vec::new(),
            unigrams: UnigramTable::default(),
            dates: DateTable::default(),
            bigrams: BigramTable::default(),
        }
    }

    /// Whether field `field` still uses its table.
    pub(crate) fn enabled(&self, field: usize) -> bool {
        self.tables[field].enabled
    }

    /// Whether field `field`'s table may double within the budget.
    fn can_grow(&self, field: usize) -> bool {
        let table = &self.tables[field];
        // Doubled, it must fit the budget with the other tables, and hold
        // at most half of it: one field never starves the others.
        table.sets > 0
            && 4 * table.sets <= MAX_SLOTS
            && self.bytes + table.bytes() <= BUDGET
            && 2 * table.bytes() <= BUDGET / 2
    }

    /// The entry of `cell` in field `field`'s table, if remembered.
    pub(crate) fn get(&mut self, field: usize, cell: &[u8]) -> Option<Hit<'_, V>> {
        if !self.tables[field].enabled {
            return None;
        }
        let can_grow = self.can_grow(field);
        let table = &mut self.tables[field];
        if table.lookups >= WINDOW {
            let rate = if can_grow {
                MIN_HIT_RATE_GROWING
            } else {
                MIN_HIT_RATE
            };
            if table.hits * rate < table.lookups {
                // The field's values hardly repeat: stop remembering them.
                self.bytes -= table.bytes();
                *table = Table::new();
                table.enabled = false;
                return None;
            }
            table.lookups = 0;
            table.hits = 0;
        }
        table.lookups += 1;
        table.since += 1;
        if table.since >= REPLACEMENT_SPAN * table.hashes.len() {
            // Replacements this rare are conflicts between a few cells,
            // not more cells than the table holds: start counting afresh.
            table.replaced = 0;
            table.since = 0;
        }
        let hash = hash_of(cell);
        let slot = table.find(hash, cell)?;
        table.hits += 1;
        table.recent[slot / 2] = (slot % 2) as u8;
        let (_, value) = table.entries[slot].as_ref()?;
        Some(Hit {
            value: value.as_ref(),
            bits: &table.bits[slot * table.width..(slot + 1) * table.width],
        })
    }

    /// Remember `cell` of field `field` (every cell of a field must have
    /// as many words of bits).
    pub(crate) fn insert(&mut self, field: usize, cell: &[u8], value: Option<V>, bits: &[u64]) {
        if !self.tables[field].enabled {
            return;
        }
        if self.tables[field].sets == 0 {
            let bytes = Table::<V>::bytes_for(FIRST_SLOTS, bits.len());
            if self.bytes + bytes > BUDGET {
                return;
            }
            self.tables[field].allocate(FIRST_SLOTS, bits.len());
            self.bytes += bytes;
        }
        let table = &self.tables[field];
        if bits.len() != table.width {
            return;
        }
        if table.replaced >= table.hashes.len() / 2 && self.can_grow(field) {
            // It replaced half its size in entries within a few times its
            // size in lookups: more values than it holds (whether they
            // repeat is for `get` to tell).
            let before = table.bytes();
            self.tables[field].grow();
            self.bytes += self.tables[field].bytes() - before;
        }
        let table = &mut self.tables[field];
        let hash = hash_of(cell);
        let slot = table.place(hash);
        table.hashes[slot] = hash;
        table.entries[slot] = Some((StoredCell::new(cell), value));
        table.bits[slot * table.width..(slot + 1) * table.width].copy_from_slice(bits);
    }
}

/// Token positions by field and slot, for tokens fully given by a few
/// bytes: per field an index of `slots` offsets into one arena of
/// `[count, positions...]`, filled as tokens are met. A direct index
/// instead of formatting the token and a hash lookup.
struct DirectTable {
    slots: usize,
    /// Per field: per slot, 1 + the entry's offset in `arena` (0: not yet
    /// computed).
    fields: Vec<Vec<u32>>,
    arena: Vec<u32>,
    scratch: Vec<u32>,
}

impl DirectTable {
    fn new(slots: usize) -> DirectTable {
        DirectTable {
            slots,
            fields: Vec::new(),
            arena: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// The positions in slot `slot` (below `slots`) of field `field`,
    /// computed by `compute` when not known.
    fn positions(
        &mut self,
        field: usize,
        slot: usize,
        compute: impl FnOnce(&mut Vec<u32>),
    ) -> &[u32] {
        if self.fields.len() <= field {
            self.fields.resize_with(field + 1, Vec::new);
        }
        let index = &mut self.fields[field];
        if index.is_empty() {
            index.resize(self.slots, 0);
        }
        let offset = match index[slot] {
            0 => {
                self.scratch.clear();
                compute(&mut self.scratch);
                let offset = self.arena.len();
                self.arena.push(self.scratch.len() as u32);
                self.arena.extend_from_slice(&self.scratch);
                index[slot] = offset as u32 + 1;
                offset
            }
            stored => stored as usize - 1,
        };
        let count = self.arena[offset] as usize;
        &self.arena[offset + 1..offset + 1 + count]
    }
}

/// The positions of the bigrams of ASCII text (q-grams with `q` = 2, the
/// default for names, places and addresses), by field and the two bytes,
/// since such a token is fully given by the three: 128 × 128 slots per
/// field.
pub(crate) struct BigramTable(DirectTable);

impl Default for BigramTable {
    fn default() -> Self {
        BigramTable(DirectTable::new(128 * 128))
    }
}

impl BigramTable {
    /// The positions of the bigram `first`, `second` (ASCII bytes) of field
    /// `field`, computed by `compute` when not known.
    pub(crate) fn positions(
        &mut self,
        field: usize,
        first: u8,
        second: u8,
        compute: impl FnOnce(&mut Vec<u32>),
    ) -> &[u32] {
        let slot = usize::from(first & 0x7f) * 128 + usize::from(second & 0x7f);
        self.0.positions(field, slot, compute)
    }
}

/// Years a [`DateTable`] covers (`0..DATE_YEARS`).
pub(crate) const DATE_YEARS: usize = 1 << 12;

/// A date field's bits in two parts, its year's and its month's and day's,
/// each computed once per thread: a date's bits are the OR of its two
/// parts, with no token formatted or looked up. (A date's tokens are the
/// year's tokens and the month's and day's, and each part's bits depend
/// only on that part.) Per field [`DATE_YEARS`] years and 13 × 32
/// (month, day) pairs, unknown month or day as 0, filled as they are met.
#[derive(Default)]
pub(crate) struct DateTable {
    fields: Vec<DateParts>,
}

#[derive(Default)]
struct DateParts {
    years: Vec<Option<Box<[u64]>>>,
    month_days: Vec<Option<Box<[u64]>>>,
}

impl DateTable {
    /// The bits of year `year` (below [`DATE_YEARS`]) of field `field`,
    /// computed by `compute` (into `width` zeroed words) when not known.
    pub(crate) fn year(
        &mut self,
        field: usize,
        year: u16,
        width: usize,
        compute: impl FnOnce(&mut [u64]),
    ) -> &[u64] {
        let years = &mut self.parts(field).years;
        Self::get_or_compute(years, DATE_YEARS, usize::from(year), width, compute)
    }

    /// The bits of month `month` and day `day` (0: unknown; below 13 and
    /// 32) of field `field`, computed by `compute` when not known.
    pub(crate) fn month_day(
        &mut self,
        field: usize,
        month: u8,
        day: u8,
        width: usize,
        compute: impl FnOnce(&mut [u64]),
    ) -> &[u64] {
        let month_days = &mut self.parts(field).month_days;
        let slot = usize::from(month) * 32 + usize::from(day);
        Self::get_or_compute(month_days, 13 * 32, slot, width, compute)
    }

    fn parts(&mut self, field: usize) -> &mut DateParts {
        if self.fields.len() <= field {
            self.fields.resize_with(field + 1, DateParts::default);
        }
        &mut self.fields[field]
    }

    /// Slot `slot` of `table` (of `len` slots, allocated on first use),
    /// computed by `compute` into `width` zeroed words when empty.
    fn get_or_compute(
        table: &mut Vec<Option<Box<[u64]>>>,
        len: usize,
        slot: usize,
        width: usize,
        compute: impl FnOnce(&mut [u64]),
    ) -> &[u64] {
        if table.is_empty() {
            table.resize_with(len, || None);
        }
        table[slot].get_or_insert_with(|| {
            let mut bits = vec![0; width].into_boxed_slice();
            compute(&mut bits);
            bits
        })
    }
}

/// Character positions a [`UnigramTable`] covers.
pub(crate) const UNIGRAM_POSITIONS: usize = 32;

/// The token "{number}{separator}{byte}" in `buffer`, for a `number`
/// below 100 (a position in a [`UnigramTable`]).
pub(crate) fn unigram_token(number: usize, separator: u8, byte: u8, buffer: &mut [u8; 4]) -> &[u8] {
    debug_assert!(number < 100);
    let len = if number < 10 {
        buffer[0] = b'0' + number as u8;
        1
    } else {
        buffer[0] = b'0' + (number / 10 % 10) as u8;
        buffer[1] = b'0' + (number % 10) as u8;
        2
    };
    buffer[len] = separator;
    buffer[len + 1] = byte;
    &buffer[..len + 2]
}

/// The positions of positional unigrams of ASCII values (clkhash's
/// `{"type": "ngram", "n": 1, "positional": true}`, as used for postcodes,
/// document numbers and dates), by field, position and byte, since such a
/// token is fully given by the three: [`UNIGRAM_POSITIONS`] × 128 slots
/// per field.
pub(crate) struct UnigramTable(DirectTable);

impl Default for UnigramTable {
    fn default() -> Self {
        UnigramTable(DirectTable::new(UNIGRAM_POSITIONS * 128))
    }
}

impl UnigramTable {
    /// The positions of the unigram of ASCII byte `byte` at position
    /// `position` (below [`UNIGRAM_POSITIONS`]) of field `field`, computed
    /// by `compute` when not known.
    pub(crate) fn positions(
        &mut self,
        field: usize,
        position: usize,
        byte: u8,
        compute: impl FnOnce(&mut Vec<u32>),
    ) -> &[u32] {
        self.0
            .positions(field, position * 128 + usize::from(byte & 0x7f), compute)
    }
}

/// Token-position entries per thread (a power of two).
const TOKEN_SLOTS: usize = 1 << 12;
/// Bits of the doorkeeper that admits tokens to the table.
const DOORKEEPER_BITS: usize = 1 << 16;

/// Longest cache key (hash group, k, salt, token) kept in the table.
const TOKEN_KEY_BYTES: usize = 30;
/// Most positions of a token kept in the table.
const TOKEN_POSITIONS: usize = 32;

/// One remembered token, held inline (no pointer to follow on a lookup).
#[derive(Clone)]
struct TokenEntry {
    /// The key's hash; 0 for an empty slot.
    hash: u64,
    key_len: u8,
    n_positions: u8,
    key: [u8; TOKEN_KEY_BYTES],
    positions: [u32; TOKEN_POSITIONS],
}

impl TokenEntry {
    const EMPTY: TokenEntry = TokenEntry {
        hash: 0,
        key_len: 0,
        n_positions: 0,
        key: [0; TOKEN_KEY_BYTES],
        positions: [0; TOKEN_POSITIONS],
    };

    fn key(&self) -> &[u8] {
        &self.key[..usize::from(self.key_len)]
    }

    fn positions(&self) -> &[u32] {
        &self.positions[..usize::from(self.n_positions)]
    }
}

/// One worker thread's token positions by cache key (hash group, k, salt,
/// token): a direct-mapped table with a doorkeeper. A token enters the
/// table on its second miss (the doorkeeper, a bit set by hash, remembers
/// the first), so tokens that never repeat (the `all:` token of a document
/// number) neither cost an allocation nor push reused tokens out. No
/// locks: each thread has its own.
pub(crate) struct TokenTable {
    /// Two ways per set, as in a field's table.
    slots: Vec<TokenEntry>,
    recent: Vec<u8>,
    seen: Vec<u64>,
    seen_count: usize,
    scratch: Vec<u32>,
}

impl Default for TokenTable {
    fn default() -> Self {
        TokenTable {
            slots: Vec::new(),
            recent: Vec::new(),
            seen: Vec::new(),
            seen_count: 0,
            scratch: Vec::with_capacity(64),
        }
    }
}

impl TokenTable {
    /// The positions for `key` computed as [`TokenTable::positions`] does
    /// on a miss, neither looked up nor remembered (for tokens that will
    /// not come again).
    pub(crate) fn compute(
        &mut self,
        key: &[u8],
        compute: &mut dyn FnMut(&[u8], &mut Vec<u32>),
    ) -> &[u32] {
        self.scratch.clear();
        compute(&key[3..], &mut self.scratch);
        &self.scratch
    }

    /// The positions for `key`, computed by `compute(&key[3..], out)` on a
    /// miss (the first three bytes are the hash group and k).
    pub(crate) fn positions(
        &mut self,
        key: &[u8],
        compute: &mut dyn FnMut(&[u8], &mut Vec<u32>),
    ) -> &[u32] {
        if self.slots.is_empty() {
            self.slots = vec![TokenEntry::EMPTY; TOKEN_SLOTS];
            self.recent = vec![0; TOKEN_SLOTS / 2];
            self.seen = vec![0; DOORKEEPER_BITS / 64];
        }
        let mut hasher = FxHasher::default();
        hasher.write(key);
        let hash = hasher.finish() | 1;
        let set = (hash >> 40) as usize & (TOKEN_SLOTS / 2 - 1);
        let found = (0..2).find(|&way| {
            let entry = &self.slots[2 * set + way];
            entry.hash == hash && same_bytes(entry.key(), key)
        });
        if let Some(way) = found {
            self.recent[set] = way as u8;
            return self.slots[2 * set + way].positions();
        }
        self.scratch.clear();
        compute(&key[3..], &mut self.scratch);
        if key.len() > TOKEN_KEY_BYTES || self.scratch.len() > TOKEN_POSITIONS {
            // Too long to keep inline: computed every time.
            return &self.scratch;
        }
        let bit = (hash >> 16) as usize & (DOORKEEPER_BITS - 1);
        let (word, mask) = (bit / 64, 1u64 << (bit % 64));
        if self.seen[word] & mask == 0 {
            // First sight: remember that it was seen, not the token.
            self.seen[word] |= mask;
            self.seen_count += 1;
            if self.seen_count > DOORKEEPER_BITS / 4 {
                self.seen.fill(0);
                self.seen_count = 0;
            }
            return &self.scratch;
        }
        // An empty way, else the one not used last.
        let way = if self.slots[2 * set].hash == 0 {
            0
        } else if self.slots[2 * set + 1].hash == 0 {
            1
        } else {
            1 - usize::from(self.recent[set])
        };
        self.recent[set] = way as u8;
        let entry = &mut self.slots[2 * set + way];
        entry.hash = hash;
        entry.key_len = key.len() as u8;
        entry.key[..key.len()].copy_from_slice(key);
        entry.n_positions = self.scratch.len() as u8;
        entry.positions[..self.scratch.len()].copy_from_slice(&self.scratch);
        entry.positions()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unigram_tokens_are_written_in_decimal() {
        let mut buffer = [0; 4];
        assert_eq!(unigram_token(0, b':', b'N', &mut buffer), b"0:N");
        assert_eq!(unigram_token(9, b' ', b'7', &mut buffer), b"9 7");
        assert_eq!(unigram_token(32, b' ', b'x', &mut buffer), b"32 x");
    }

    #[test]
    fn same_bytes_is_equality() {
        let texts: [&[u8]; 7] = [
            b"",
            b"a",
            b"ab",
            b"abcdefgh",
            b"abcdefgi",
            b"abcdefghi",
            b"abcdefghj",
        ];
        for a in texts {
            for b in texts {
                assert_eq!(same_bytes(a, b), a == b);
            }
        }
    }

    #[test]
    fn remembers_and_replaces() {
        let mut cache: ValueCache<String> = ValueCache::new(2);
        assert!(cache.get(0, b"anna").is_none());
        cache.insert(0, b"anna", Some("anna".into()), &[1, 2]);
        let entry = cache.get(0, b"anna").expect("remembered");
        assert_eq!(entry.value.map(String::as_str), Some("anna"));
        assert_eq!(entry.bits, &[1, 2]);
        // Another field's table is separate.
        assert!(cache.get(1, b"anna").is_none());
        // A different cell never returns this entry.
        assert!(cache.get(0, b"anne").is_none());
    }

    #[test]
    fn full_tables_still_answer_right() {
        // Twice as many cells as the largest table holds, each looked up
        // twice in a row and seen again later: tables grow to their
        // largest, sets overflow and ways are replaced, and every hit must
        // still be the cell's own entry.
        let mut cache: ValueCache<u32> = ValueCache::new(1);
        let mut hits = 0;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for i in 0..8 * MAX_SLOTS {
            if i % 2 == 0 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
            }
            let value = (state % (2 * MAX_SLOTS as u64)) as u32;
            let cell = value.to_le_bytes();
            match cache.get(0, &cell) {
                Some(hit) => {
                    assert_eq!(hit.value, Some(&value));
                    assert_eq!(hit.bits, &[u64::from(value), 7]);
                    hits += 1;
                }
                None => cache.insert(0, &cell, Some(value), &[u64::from(value), 7]),
            }
        }
        assert!(cache.enabled(0));
        assert_eq!(cache.tables[0].hashes.len(), MAX_SLOTS);
        assert!(hits > 4 * MAX_SLOTS, "{hits} hits");
    }

    #[test]
    fn tables_fit_the_budget() {
        // 100 fields of 8192-bit filters, each with more repeating values
        // than the budget can hold: tables stop growing, answers stay right.
        let mut cache: ValueCache<u32> = ValueCache::new(100);
        let wide = |value: u32| vec![u64::from(value); 128];
        for round in 0..3 {
            for field in 0..100 {
                for value in 0..2000u32 {
                    let cell = value.to_le_bytes();
                    match cache.get(field, &cell) {
                        Some(hit) => {
                            assert_eq!(hit.value, Some(&value));
                            assert_eq!(hit.bits, &wide(value)[..]);
                        }
                        None => cache.insert(field, &cell, Some(value), &wide(value)),
                    }
                }
            }
            let held: usize = cache.tables.iter().map(Table::bytes).sum();
            assert_eq!(held, cache.bytes, "round {round}");
            assert!(cache.bytes <= BUDGET, "{} bytes", cache.bytes);
        }
        assert!(cache
            .tables
            .iter()
            .all(|t| t.sets == 0 || t.sets.is_power_of_two()));
        assert!(cache.tables.iter().any(|t| t.hashes.len() > FIRST_SLOTS));
    }

    #[test]
    fn a_few_hundred_values_keep_a_small_table() {
        // 300 values in random order, a million lookups: the table grows
        // to hold them, then no further on the few sets they overfill
        // (counting every replacement ever, it would reach 8,192 entries).
        let mut cache: ValueCache<u32> = ValueCache::new(1);
        let mut state = 0x853c_49e6_748f_ea9bu64;
        for _ in 0..1_000_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let value = (state % 300) as u32;
            let cell = value.to_le_bytes();
            if cache.get(0, &cell).is_none() {
                cache.insert(0, &cell, Some(value), &[u64::from(value)]);
            }
        }
        let slots = cache.tables[0].hashes.len();
        assert!((512..=2048).contains(&slots), "{slots}");
    }

    #[test]
    fn tables_grow_and_keep_their_entries() {
        // 1,000 values seen in turn: the first table (64 entries) keeps
        // replacing them, so it grows until all fit, and then every lookup hits.
        let mut cache: ValueCache<u32> = ValueCache::new(2);
        let mut last_round_hits = 0;
        for _ in 0..12 {
            last_round_hits = 0;
            for value in 0..1000u32 {
                let cell = value.to_le_bytes();
                match cache.get(1, &cell) {
                    Some(hit) => {
                        assert_eq!(hit.value, Some(&value));
                        assert_eq!(hit.bits, &[u64::from(value)]);
                        last_round_hits += 1;
                    }
                    None => cache.insert(1, &cell, Some(value), &[u64::from(value)]),
                }
            }
        }
        assert!(cache.tables[1].hashes.len() >= 1024);
        // (Sets that three values share miss in turn: two ways each.)
        assert!(last_round_hits > 800, "{last_round_hits}");
        assert_eq!(cache.bytes, cache.tables[1].bytes());
    }

    #[test]
    fn token_table_computes_once_and_survives_collisions() {
        let mut table = TokenTable::default();
        let mut calls = 0;
        let mut compute = |token: &[u8], out: &mut Vec<u32>| {
            calls += 1;
            out.extend(token.iter().map(|&b| u32::from(b)));
        };
        assert_eq!(table.positions(b"\0\0\x05ab", &mut compute), &[97, 98]);
        assert_eq!(table.positions(b"\0\0\x05ab", &mut compute), &[97, 98]);
        // Many other keys: whatever they replace, answers stay right.
        for i in 0..40_000u32 {
            let key = [&[0u8, 0, 5][..], &i.to_le_bytes()].concat();
            assert_eq!(table.positions(&key, &mut compute).len(), 4);
        }
        assert_eq!(table.positions(b"\0\0\x05ab", &mut compute), &[97, 98]);
        assert!(calls >= 40_002);
    }

    #[test]
    fn fields_that_never_repeat_stop_using_the_table() {
        let mut cache: ValueCache<()> = ValueCache::new(1);
        for i in 0..WINDOW + 1 {
            let cell = i.to_le_bytes();
            if cache.get(0, &cell).is_none() && cache.enabled(0) {
                cache.insert(0, &cell, None, &[]);
            }
        }
        assert!(!cache.enabled(0));
    }
}
