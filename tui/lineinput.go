package tui

// A one-line text field (the search query, the rewrite form's prefixes).
// bubbles/textinput is not used: it links github.com/atotto/clipboard,
// whose init searches $PATH for xclip, xsel, termux-clipboard-set and
// clip.exe in every command sparkckpt runs, cat included. This field
// pastes through the terminal (bracketed paste arrives as runes) and
// copies nothing.

import (
	"strings"
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
)

// lineInput is a single-line editor: a value, a cursor, a prompt and a
// placeholder shown while the value is empty.
type lineInput struct {
	Prompt      string
	Placeholder string
	CharLimit   int // 0: no limit
	Width       int // cells for the value; 0: no scrolling

	st      *Styles // the cursor is drawn Selected, the placeholder Dim
	value   []rune
	pos     int // cursor, in runes
	focused bool
}

// newLineInput returns an empty field drawn with st.
func newLineInput(st *Styles, prompt, placeholder string, limit int) lineInput {
	return lineInput{st: st, Prompt: prompt, Placeholder: placeholder, CharLimit: limit}
}

// Value is the text typed.
func (l *lineInput) Value() string { return string(l.value) }

// SetValue replaces the text (control characters dropped, CharLimit
// applied) and puts the cursor at its end.
func (l *lineInput) SetValue(s string) {
	l.value = l.value[:0]
	l.pos = 0
	l.insert([]rune(s))
}

// CursorEnd moves the cursor after the last rune.
func (l *lineInput) CursorEnd() { l.pos = len(l.value) }

// Focus makes the field take keys; it returns no command (the cursor
// does not blink).
func (l *lineInput) Focus() tea.Cmd {
	l.focused = true
	return nil
}

// Blur stops the field taking keys.
func (l *lineInput) Blur() { l.focused = false }

// Focused reports whether the field takes keys.
func (l *lineInput) Focused() bool { return l.focused }

func (l *lineInput) insert(rs []rune) {
	var clean []rune
	for _, r := range rs {
		if r == '\n' || r == '\t' {
			r = ' '
		}
		if unicode.IsControl(r) {
			continue
		}
		if l.CharLimit > 0 && len(l.value)+len(clean) >= l.CharLimit {
			break
		}
		clean = append(clean, r)
	}
	v := make([]rune, 0, len(l.value)+len(clean))
	v = append(append(append(v, l.value[:l.pos]...), clean...), l.value[l.pos:]...)
	l.value = v
	l.pos += len(clean)
}

// Update edits the value with a key; other messages are ignored.
func (l lineInput) Update(msg tea.Msg) (lineInput, tea.Cmd) {
	k, ok := msg.(tea.KeyMsg)
	if !ok || !l.focused {
		return l, nil
	}
	switch k.Type {
	case tea.KeyRunes, tea.KeySpace:
		l.insert(k.Runes)
	case tea.KeyBackspace:
		if l.pos > 0 {
			l.value = append(l.value[:l.pos-1:l.pos-1], l.value[l.pos:]...)
			l.pos--
		}
	case tea.KeyDelete, tea.KeyCtrlD:
		if l.pos < len(l.value) {
			l.value = append(l.value[:l.pos:l.pos], l.value[l.pos+1:]...)
		}
	case tea.KeyLeft, tea.KeyCtrlB:
		l.pos = max(0, l.pos-1)
	case tea.KeyRight, tea.KeyCtrlF:
		l.pos = min(len(l.value), l.pos+1)
	case tea.KeyHome, tea.KeyCtrlA:
		l.pos = 0
	case tea.KeyEnd, tea.KeyCtrlE:
		l.pos = len(l.value)
	case tea.KeyCtrlU:
		l.value = append([]rune(nil), l.value[l.pos:]...)
		l.pos = 0
	case tea.KeyCtrlK:
		l.value = l.value[:l.pos]
	case tea.KeyCtrlW:
		i := l.pos
		for i > 0 && l.value[i-1] == ' ' {
			i--
		}
		for i > 0 && l.value[i-1] != ' ' {
			i--
		}
		l.value = append(l.value[:i:i], l.value[l.pos:]...)
		l.pos = i
	}
	return l, nil
}

// View is the prompt and the value, scrolled so that the cursor is
// visible within Width, the cursor drawn reversed while focused.
func (l lineInput) View() string {
	if len(l.value) == 0 && l.Placeholder != "" {
		ph := []rune(l.Placeholder)
		if !l.focused {
			return l.Prompt + l.st.Dim.Render(string(ph))
		}
		return l.Prompt + l.st.Selected.Render(string(ph[:1])) + l.st.Dim.Render(string(ph[1:]))
	}
	start := 0
	if l.Width > 0 && l.pos >= l.Width {
		start = l.pos - l.Width + 1
	}
	end := len(l.value)
	if l.Width > 0 {
		end = min(end, start+l.Width)
	}
	var b strings.Builder
	b.WriteString(l.Prompt)
	b.WriteString(sanitize(string(l.value[start:min(l.pos, end)])))
	if l.focused {
		c := " "
		if l.pos < len(l.value) {
			c = string(l.value[l.pos])
		}
		b.WriteString(l.st.Selected.Render(c))
		if l.pos < end {
			b.WriteString(sanitize(string(l.value[l.pos+1 : end])))
		}
	} else if l.pos < end {
		b.WriteString(sanitize(string(l.value[l.pos:end])))
	}
	return b.String()
}
