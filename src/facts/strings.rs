//! The key texts of an input, each once, in one buffer: a text costs its
//! bytes and 4 more, where a boxed string cost 16 more and its heap
//! block's header and rounding (a million distinct callers took 60 MB
//! beyond their text).

use hashbrown::HashTable;

use crate::hashing::input_hash;

/// Interned texts, numbered 0, 1, 2... in the order first interned.
#[derive(Debug, Clone, Default)]
pub struct Strings {
    /// Every text, one after another.
    text: String,
    /// Where each text ends in `text`.
    ends: Vec<u32>,
    /// Text numbers by their texts' hashes, while texts are interned;
    /// dropped by [`Strings::seal`] and made again when needed.
    index: HashTable<u32>,
}

impl Strings {
    /// How many texts.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The text numbered `id`.
    pub fn get(&self, id: u32) -> &str {
        text_of(&self.text, &self.ends, id)
    }

    /// Every text, by number.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.ends.len() as u32).map(|id| self.get(id))
    }

    /// The number of `text`, added if new; an error past 4 GiB of
    /// distinct text.
    pub fn intern(&mut self, text: &str) -> Result<u32, String> {
        if self.index.is_empty() && !self.ends.is_empty() {
            self.reindex();
        }
        let hash = input_hash(text);
        if let Some(&id) = self.index.find(hash, |&id| self.get(id) == text) {
            return Ok(id);
        }
        let id = self.ends.len() as u32;
        let end = u32::try_from(self.text.len() + text.len())
            .map_err(|_| "the input's distinct key texts pass 4 GiB".to_string())?;
        self.text.push_str(text);
        self.ends.push(end);
        let Self { text, ends, index } = self;
        index.insert_unique(hash, id, |&id| input_hash(text_of(text, ends, id)));
        Ok(id)
    }

    /// Gives back the index and the room kept for more texts: no text is
    /// interned until the next [`Strings::intern`], which makes the index
    /// again.
    pub fn seal(&mut self) {
        self.index = HashTable::new();
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    fn reindex(&mut self) {
        let Self { text, ends, index } = self;
        index.reserve(ends.len(), |&id| input_hash(text_of(text, ends, id)));
        for id in 0..ends.len() as u32 {
            let hash = input_hash(text_of(text, ends, id));
            index.insert_unique(hash, id, |&id| input_hash(text_of(text, ends, id)));
        }
    }
}

/// The text numbered `id`, from the parts (for the index's rehashing,
/// which borrows the index apart).
fn text_of<'a>(text: &'a str, ends: &[u32], id: u32) -> &'a str {
    let id = id as usize;
    let begin = id.checked_sub(1).map_or(0, |before| ends[before]) as usize;
    &text[begin..ends[id] as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_text_is_kept_once_and_found_again_after_sealing() {
        let mut strings = Strings::default();
        let texts = ["kernel", "", "kernel_lock", "reaper", "kernel", ""];
        let ids: Vec<u32> = texts
            .iter()
            .map(|text| strings.intern(text).unwrap())
            .collect();
        assert_eq!(ids, [0, 1, 2, 3, 0, 1]);
        assert_eq!(
            strings.iter().collect::<Vec<_>>(),
            ["kernel", "", "kernel_lock", "reaper"]
        );
        strings.seal();
        assert_eq!(strings.intern("reaper").unwrap(), 3);
        assert_eq!(strings.intern("exit1").unwrap(), 4);
        assert_eq!(strings.get(4), "exit1");
        assert_eq!(strings.len(), 5);
    }
}
