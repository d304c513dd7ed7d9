//! Key texts to key indices: the hash table of the row loop.
//!
//! A row whose text after `dur` was seen before is folded by one lookup of
//! that text (see `FactsBuilder::row_by_key_text`). With tens of thousands
//! of keys and a gigabyte streaming through the caches, each lookup is
//! paid in cache misses, not in instructions: a general map of boxed
//! strings misses once on its bucket and once more on the string. Here the
//! table holds only 4-byte entry numbers (a small, well-cached array),
//! and each entry is one 64-byte line that holds the text itself.

use crate::hashing::input_hash;
use hashbrown::HashTable;

/// Texts up to this length are kept in their entry; longer ones in
/// `TextIndex::spilled` (a second line to fetch, still correct).
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
/// Insert only; cleared as a whole; fewer than 2^32 texts (the facts
/// builder stops at 2^18).
#[derive(Clone, Default)]
pub struct TextIndex {
    /// Numbers of `entries`, found by their texts' hashes.
    table: HashTable<u32>,
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
        self.table.clear();
        self.entries.clear();
        self.spilled.clear();
    }

    /// The value of `text`, if it was inserted.
    #[inline]
    pub fn get(&self, text: &str) -> Option<u32> {
        self.find(text).map(|(_, value)| value)
    }

    /// The entry number and value of `text`, if inserted. Entries are
    /// numbered 0, 1, 2... in insertion order; the number is known before
    /// the entry's line is loaded, so a caller whose values are mostly the
    /// entry numbers can start its own loads from it without waiting.
    #[inline]
    pub fn find(&self, text: &str) -> Option<(u32, u32)> {
        let text = text.as_bytes();
        self.table
            .find(hash(text), |&number| self.text_of(number) == text)
            .map(|&number| (number, self.entries[number as usize].value))
    }

    /// Adds `text` with `value`; `text` must not be in it yet.
    pub fn insert(&mut self, text: &str, value: u32) {
        debug_assert!(self.get(text).is_none(), "{text:?} inserted twice");
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
        let number = self.entries.len() as u32;
        self.entries.push(entry);
        let Self {
            table,
            entries,
            spilled,
        } = self;
        table.insert_unique(hash(text.as_bytes()), number, |&number| {
            hash(text_of(&entries[number as usize], spilled))
        });
    }

    fn text_of(&self, number: u32) -> &[u8] {
        text_of(&self.entries[number as usize], &self.spilled)
    }
}

/// An entry's text, inline or in `spilled`.
fn text_of<'a>(entry: &'a Entry, spilled: &'a [u8]) -> &'a [u8] {
    let len = entry.len as usize;
    if len <= INLINE {
        &entry.text[..len]
    } else {
        let mut offset = [0; 8];
        offset.copy_from_slice(&entry.text[..8]);
        let offset = u64::from_le_bytes(offset) as usize;
        &spilled[offset..offset + len]
    }
}

fn hash(text: &[u8]) -> u64 {
    input_hash(text)
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
