//! Key texts to key indices: the hash table of the row loop.
//!
//! A row whose text after `dur` was seen before is folded by one lookup of
//! that text (see `FactsBuilder::row_by_key_text`). With tens of thousands
//! of keys and a gigabyte streaming through the caches, each lookup is
//! paid in cache misses, not in instructions: a general map of boxed
//! strings misses once on its bucket and once more on the string. Here a
//! small array of slots (hash tag and entry number) leads to one 64-byte
//! entry that holds the text itself, so a hit touches one line that is
//! not in the slots.

use std::hash::BuildHasher;

use rustc_hash::FxBuildHasher;

/// Texts up to this length are kept in their entry; longer ones in
/// [`TextIndex::spilled`] (a second line to fetch, still correct).
const INLINE: usize = 56;

/// One text and its value, one cache line.
#[derive(Clone)]
#[repr(C, align(64))]
struct Entry {
    len: u32,
    value: u32,
    /// The text, or for a longer one its offset in `spilled` (8 bytes,
    /// little-endian).
    text: [u8; INLINE],
}

/// A map from texts to `u32` values, for lookups of texts mostly present.
/// Insert only; cleared as a whole. Entry numbers share a slot with the
/// hash's tag in 32 bits, so it holds fewer than 2^32 texts (the facts
/// builder stops at 2^18).
#[derive(Clone, Default)]
pub struct TextIndex {
    /// Open addressing, linear probing: 0 is empty, else the hash's upper
    /// 32 bits above the entry's number plus 1.
    slots: Vec<u64>,
    entries: Vec<Entry>,
    spilled: Vec<u8>,
}

impl std::fmt::Debug for TextIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextIndex")
            .field("len", &self.entries.len())
            .finish()
    }
}

impl TextIndex {
    /// How many texts it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no text.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Forgets every text, keeping the memory.
    pub fn clear(&mut self) {
        self.slots.fill(0);
        self.entries.clear();
        self.spilled.clear();
    }

    /// The value of `text`, if it was inserted.
    #[inline]
    pub fn get(&self, text: &str) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let hash = hash(text.as_bytes());
        let tag = hash >> 32;
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            let slot = self.slots[at];
            if slot == 0 {
                return None;
            }
            if slot >> 32 == tag {
                let entry = &self.entries[(slot as u32 - 1) as usize];
                if self.text_of(entry) == text.as_bytes() {
                    return Some(entry.value);
                }
            }
            at = (at + 1) & mask;
        }
    }

    /// Adds `text` with `value`; `text` must not be in it yet.
    pub fn insert(&mut self, text: &str, value: u32) {
        debug_assert!(self.get(text).is_none(), "{text:?} inserted twice");
        debug_assert!(self.entries.len() < u32::MAX as usize - 1, "too many texts");
        // At most 3/4 full: probes stay short.
        if (self.entries.len() + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let mut entry = Entry {
            len: text.len() as u32,
            value,
            text: [0; INLINE],
        };
        if text.len() <= INLINE {
            entry.text[..text.len()].copy_from_slice(text.as_bytes());
        } else {
            let offset = self.spilled.len() as u64;
            entry.text[..8].copy_from_slice(&offset.to_le_bytes());
            self.spilled.extend_from_slice(text.as_bytes());
        }
        self.entries.push(entry);
        let number = self.entries.len() as u64;
        self.place(hash(text.as_bytes()), number);
    }

    fn text_of<'a>(&'a self, entry: &'a Entry) -> &'a [u8] {
        let len = entry.len as usize;
        if len <= INLINE {
            &entry.text[..len]
        } else {
            let mut offset = [0; 8];
            offset.copy_from_slice(&entry.text[..8]);
            let offset = u64::from_le_bytes(offset) as usize;
            &self.spilled[offset..offset + len]
        }
    }

    /// Puts entry `number` (1-based) in the first free slot from its hash.
    fn place(&mut self, hash: u64, number: u64) {
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        while self.slots[at] != 0 {
            at = (at + 1) & mask;
        }
        self.slots[at] = (hash >> 32) << 32 | number;
    }

    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(64);
        self.slots = vec![0; capacity];
        for index in 0..self.entries.len() {
            let hash = hash(self.text_of(&self.entries[index]));
            self.place(hash, index as u64 + 1);
        }
    }
}

fn hash(text: &[u8]) -> u64 {
    FxBuildHasher.hash_one(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_text_inserted_and_none_other() {
        let mut index = TextIndex::default();
        assert_eq!(index.get("spin\tkernel_lock\treaper"), None);
        let texts: Vec<String> = (0..5_000)
            .map(|i| match i % 3 {
                // Short, exactly inline-sized and spilled texts.
                0 => format!("spin\tlock_{i}"),
                1 => format!("{:x<56}", format!("rw\t{i}\t")),
                _ => format!(
                    "spin\tkernel_lock\t_kernel_lock+0x{i:x}\t{}",
                    "caller".repeat(9)
                ),
            })
            .collect();
        for (value, text) in texts.iter().enumerate() {
            index.insert(text, value as u32);
        }
        assert_eq!(index.len(), 5_000);
        for (value, text) in texts.iter().enumerate() {
            assert_eq!(index.get(text), Some(value as u32), "{text}");
        }
        for text in ["", "spin", "spin\tlock_1 ", "spin\tlock_2", "rw\t1\t"] {
            assert_eq!(index.get(text), None, "{text:?}");
        }
        index.clear();
        assert!(index.is_empty());
        assert_eq!(index.get(&texts[0]), None);
        index.insert(&texts[1], 7);
        assert_eq!(index.get(&texts[1]), Some(7));
    }
}
