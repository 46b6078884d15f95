//! The input line: editing, and a history of what was sent.

/// Lines kept in the history.
const HISTORY_LEN: usize = 200;

/// Longest line the editor accepts, in characters (a protocol line is at
/// most 4096 bytes).
const MAX_CHARS: usize = 4_000;

/// A one-line editor with history (Up and Down), like a shell's.
#[derive(Debug, Clone, Default)]
pub struct LineEditor {
    text: Vec<char>,
    cursor: usize,
    history: Vec<String>,
    /// Position while browsing the history; `None` when editing a new line.
    browsing: Option<usize>,
    /// The new line being edited before browsing started.
    draft: Vec<char>,
}

impl LineEditor {
    /// The line as typed.
    pub fn text(&self) -> String {
        self.text.iter().collect()
    }

    /// Whether nothing is typed.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// The cursor, in characters from the start.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Types `c` at the cursor.
    pub fn insert(&mut self, c: char) {
        if self.text.len() < MAX_CHARS && !c.is_control() {
            self.text.insert(self.cursor, c);
            self.cursor += 1;
        }
    }

    /// Deletes the character before the cursor.
    pub fn backspace(&mut self) {
        if self.cursor > 0 {
            self.cursor -= 1;
            self.text.remove(self.cursor);
        }
    }

    /// Deletes the character under the cursor.
    pub fn delete(&mut self) {
        if self.cursor < self.text.len() {
            self.text.remove(self.cursor);
        }
    }

    /// Deletes the word before the cursor (Ctrl-W).
    pub fn delete_word(&mut self) {
        let mut start = self.cursor;
        while start > 0 && self.text[start - 1] == ' ' {
            start -= 1;
        }
        while start > 0 && self.text[start - 1] != ' ' {
            start -= 1;
        }
        self.text.drain(start..self.cursor);
        self.cursor = start;
    }

    /// Deletes from the start to the cursor (Ctrl-U).
    pub fn delete_to_start(&mut self) {
        self.text.drain(..self.cursor);
        self.cursor = 0;
    }

    /// Deletes from the cursor to the end (Ctrl-K).
    pub fn delete_to_end(&mut self) {
        self.text.truncate(self.cursor);
    }

    /// Moves the cursor one character left.
    pub fn left(&mut self) {
        self.cursor = self.cursor.saturating_sub(1);
    }

    /// Moves the cursor one character right.
    pub fn right(&mut self) {
        self.cursor = (self.cursor + 1).min(self.text.len());
    }

    /// Moves the cursor to the start.
    pub fn home(&mut self) {
        self.cursor = 0;
    }

    /// Moves the cursor to the end.
    pub fn end(&mut self) {
        self.cursor = self.text.len();
    }

    /// Shows the previous line of the history.
    pub fn up(&mut self) {
        let index = match self.browsing {
            Some(0) => return,
            Some(i) => i - 1,
            None if self.history.is_empty() => return,
            None => {
                self.draft = std::mem::take(&mut self.text);
                self.history.len() - 1
            }
        };
        self.browsing = Some(index);
        self.show(self.history[index].chars().collect());
    }

    /// Shows the next line of the history, or the draft after the last.
    pub fn down(&mut self) {
        let Some(index) = self.browsing else { return };
        if index + 1 < self.history.len() {
            self.browsing = Some(index + 1);
            self.show(self.history[index + 1].chars().collect());
        } else {
            self.browsing = None;
            let draft = std::mem::take(&mut self.draft);
            self.show(draft);
        }
    }

    fn show(&mut self, text: Vec<char>) {
        self.text = text;
        self.cursor = self.text.len();
    }

    /// Takes the line (Enter): it goes into the history and the editor
    /// empties. `None` for a blank line.
    pub fn submit(&mut self) -> Option<String> {
        let line = self.text();
        self.text.clear();
        self.cursor = 0;
        self.browsing = None;
        self.draft.clear();
        if line.trim().is_empty() {
            return None;
        }
        if self.history.last() != Some(&line) {
            if self.history.len() == HISTORY_LEN {
                self.history.remove(0);
            }
            self.history.push(line.clone());
        }
        Some(line)
    }

    /// Empties the line without sending it (Esc).
    pub fn clear(&mut self) {
        self.text.clear();
        self.cursor = 0;
        self.browsing = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(s: &str) -> LineEditor {
        let mut editor = LineEditor::default();
        s.chars().for_each(|c| editor.insert(c));
        editor
    }

    #[test]
    fn edits_at_the_cursor() {
        let mut e = typed("helo wrld");
        e.left();
        e.left();
        e.left();
        e.insert('o');
        assert_eq!(e.text(), "helo world");
        e.home();
        e.right();
        e.right();
        e.right();
        e.insert('l');
        assert_eq!(e.text(), "hello world");
        e.end();
        e.delete_word();
        assert_eq!(e.text(), "hello ");
        e.backspace();
        e.home();
        e.delete();
        assert_eq!(e.text(), "ello");
        e.right();
        e.delete_to_end();
        assert_eq!((e.text().as_str(), e.cursor()), ("e", 1));
        e.delete_to_start();
        assert!(e.is_empty());
        e.backspace();
        e.delete();
        e.insert('\u{7}');
        assert!(e.is_empty(), "editing an empty line is harmless; controls are not typed");
    }

    #[test]
    fn history_goes_back_and_returns_to_the_draft() {
        let mut e = typed("/join #a");
        assert_eq!(e.submit().as_deref(), Some("/join #a"));
        "hi".chars().for_each(|c| e.insert(c));
        e.submit();
        assert_eq!(e.submit(), None, "blank lines are not sent");
        "dra".chars().for_each(|c| e.insert(c));
        e.up();
        assert_eq!(e.text(), "hi");
        e.up();
        assert_eq!(e.text(), "/join #a");
        e.up();
        assert_eq!(e.text(), "/join #a", "stops at the oldest");
        e.down();
        e.down();
        assert_eq!(e.text(), "dra");
        e.down();
        assert_eq!(e.text(), "dra");
    }
}
