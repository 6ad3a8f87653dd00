//! A fast hash for maps whose keys this crate chooses itself: session ids (random) and
//! tool names (from the capability file). Request data is only ever looked up in them,
//! never inserted, so nobody can shape the table, and SipHash's defence against chosen
//! keys would buy nothing for its ~200 instructions per lookup of a session id. Maps
//! keyed by what clients send (request ids in flight) keep the standard hasher.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` whose keys are ours (see the module documentation).
pub(crate) type OwnKeyMap<K, V> = HashMap<K, V, BuildHasherDefault<KeyHasher>>;

/// A folded multiply (the 128-bit product's halves xored, as foldhash and wyhash do) over
/// eight bytes at a time. A plain 64-bit multiply (FxHash) only carries a difference in a
/// word's high bits upwards, so `tool-1019` and `tool-1094` collided; the fold mixes both
/// ways.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

const SEED: u64 = 0xf135_7aea_2e62_a9c5;

impl KeyHasher {
    fn add(&mut self, word: u64) {
        let product = u128::from(self.0 ^ word) * u128::from(SEED);
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut lanes = [0u8; 8];
            lanes.copy_from_slice(w);
            self.add(u64::from_le_bytes(lanes));
        }
        let rest = words.remainder();
        let mut lanes = [0u8; 8];
        lanes[..rest.len()].copy_from_slice(rest);
        // The length goes in too, so that trailing zero bytes still count.
        self.add(u64::from_le_bytes(lanes) ^ ((rest.len() as u64) << 59));
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn keys_that_differ_hash_apart() {
        let build = BuildHasherDefault::<KeyHasher>::default();
        let keys: Vec<String> = (0..20_000)
            .map(|i| format!("tool-{i}"))
            .chain(["", "a", "a\0", "ab", "abcdefgh", "abcdefgh\0"].map(String::from))
            .collect();
        let hashes: HashSet<u64> = keys.iter().map(|k| build.hash_one(k)).collect();
        assert_eq!(hashes.len(), keys.len());
        // And the low bits the table uses are spread as by chance: 20,006 keys over 32,768
        // buckets fill about 14,900.
        let buckets: HashSet<u64> = keys.iter().map(|k| build.hash_one(k) & 32767).collect();
        assert!(buckets.len() > 14_000, "{}", buckets.len());
        let mut map = OwnKeyMap::default();
        for (i, k) in keys.iter().enumerate() {
            map.insert(k.as_str(), i);
        }
        assert!(
            keys.iter()
                .enumerate()
                .all(|(i, k)| map.get(k.as_str()) == Some(&i))
        );
    }
}
