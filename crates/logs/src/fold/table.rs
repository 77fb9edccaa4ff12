//! A hash table from 64-bit integer keys (addresses, address pairs, address and port) to small
//! values: open addressing with linear probing, keys and values side by side so that a lookup
//! touches one cache line.

/// The key that marks an empty slot; a real key equal to it is kept apart.
const EMPTY: u64 = u64::MAX;

/// Grow past this many entries per 8 slots.
const MAX_LOAD_EIGHTHS: usize = 5;

#[derive(Debug, Clone)]
pub(crate) struct IntMap<V> {
    slots: Vec<(u64, V)>,
    /// log2 of the slot count.
    bits: u32,
    len: usize,
    /// The value of the key [`EMPTY`], which cannot sit in a slot.
    empty_key: Option<V>,
}

/// MurmurHash3's 64-bit finaliser: every key bit reaches the high bits, which pick the slot.
#[inline(always)]
pub(crate) fn mix(key: u64) -> u64 {
    let mut h = key;
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

impl<V: Copy + Default> IntMap<V> {
    pub(crate) fn new() -> IntMap<V> {
        IntMap::with_bits(10)
    }

    fn with_bits(bits: u32) -> IntMap<V> {
        IntMap {
            slots: vec![(EMPTY, V::default()); 1 << bits],
            bits,
            len: 0,
            empty_key: None,
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len + usize::from(self.empty_key.is_some())
    }

    #[inline(always)]
    fn home(&self, key: u64) -> usize {
        (mix(key) >> (64 - self.bits)) as usize
    }

    /// The value of `key`, inserted as the default when it is new.
    #[inline]
    pub(crate) fn entry(&mut self, key: u64) -> &mut V {
        if key == EMPTY {
            return self.empty_key.get_or_insert_with(V::default);
        }
        if (self.len + 1) * 8 > self.slots.len() * MAX_LOAD_EIGHTHS {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let slot_key = self.slots[i].0;
            if slot_key == key {
                break;
            }
            if slot_key == EMPTY {
                self.slots[i].0 = key;
                self.len += 1;
                break;
            }
            i = (i + 1) & mask;
        }
        &mut self.slots[i].1
    }

    /// The value of `key`, if it is in the table.
    pub(crate) fn get(&self, key: u64) -> Option<&V> {
        if key == EMPTY {
            return self.empty_key.as_ref();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let (slot_key, value) = &self.slots[i];
            if *slot_key == key {
                return Some(value);
            }
            if *slot_key == EMPTY {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let mut bigger = IntMap::with_bits(self.bits + 1);
        for (key, value) in self.slots.iter().filter(|(k, _)| *k != EMPTY) {
            *bigger.entry(*key) = *value;
        }
        bigger.empty_key = self.empty_key;
        *self = bigger;
    }

    /// Every key and its value, in no order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &V)> + '_ {
        self.slots
            .iter()
            .filter(|(k, _)| *k != EMPTY)
            .map(|(k, v)| (*k, v))
            .chain(self.empty_key.iter().map(|v| (EMPTY, v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn the_table_counts_like_a_hash_map() {
        let mut table: IntMap<u64> = IntMap::new();
        let mut expected: HashMap<u64, u64> = HashMap::new();
        let mut state = 7u64;
        for i in 0..200_000u64 {
            let state = crate::fold::next_random(&mut state);
            // Many repeats, the empty marker and zero among the keys.
            let key = match i % 1000 {
                0 => EMPTY,
                1 => 0,
                _ => state % 50_000,
            };
            *table.entry(key) += i;
            *expected.entry(key).or_default() += i;
        }
        assert_eq!(table.len(), expected.len());
        let got: HashMap<u64, u64> = table.iter().map(|(k, v)| (k, *v)).collect();
        assert_eq!(got, expected);
        assert_eq!(table.get(EMPTY), expected.get(&EMPTY));
        assert_eq!(table.get(123_456_789), None);
    }
}
