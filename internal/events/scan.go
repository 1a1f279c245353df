package events

import (
	"encoding/json"
	"errors"
	"strconv"
)

// leafScanner reads the leaves of a JSON event that a rule set's patterns
// name, straight from its bytes: paths no pattern names are skipped
// without building anything, which is what keeps matching an event
// against many rules cheap. It is for events overcast encoded itself;
// malformed input is an error, never a panic.
type leafScanner struct {
	data  []byte
	pos   int
	path  []byte
	paths map[string]int
	vals  [][]leaf
}

var errMalformed = errors.New("malformed JSON event")

// scanLeaves returns the values of each numbered path in event.
func scanLeaves(event []byte, paths map[string]int) ([][]leaf, error) {
	s := &leafScanner{data: event, paths: paths, vals: make([][]leaf, len(paths))}
	s.space()
	if s.pos >= len(s.data) || s.data[s.pos] != '{' {
		return nil, errMalformed
	}
	if err := s.value(); err != nil {
		return nil, err
	}
	return s.vals, nil
}

func (s *leafScanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value reads the value at pos, recording it when it is a leaf at a
// wanted path.
func (s *leafScanner) value() error {
	s.space()
	if s.pos >= len(s.data) {
		return errMalformed
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		raw, escaped, err := s.str()
		if err != nil {
			return err
		}
		if pid, ok := s.paths[string(s.path)]; ok {
			text := string(raw)
			if escaped {
				if err := json.Unmarshal(s.data[s.pos-len(raw)-2:s.pos], &text); err != nil {
					return err
				}
			}
			s.vals[pid] = append(s.vals[pid], leaf{kind: kindString, text: text})
		}
		return nil
	default:
		start := s.pos
		for s.pos < len(s.data) && !isDelimiter(s.data[s.pos]) {
			s.pos++
		}
		lit := s.data[start:s.pos]
		pid, wanted := s.paths[string(s.path)]
		var l leaf
		switch string(lit) {
		case "true", "false":
			l = leaf{kind: kindBool, text: string(lit)}
		case "null":
			l = leaf{kind: kindNull, text: "null"}
		default:
			f, err := strconv.ParseFloat(string(lit), 64)
			if err != nil {
				return errMalformed
			}
			l = leaf{kind: kindNumber, num: f}
			if wanted {
				l.text = string(lit)
			}
		}
		if wanted {
			s.vals[pid] = append(s.vals[pid], l)
		}
		return nil
	}
}

func isDelimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// str reads a string, returning its raw bytes between the quotes and
// whether they hold escapes.
func (s *leafScanner) str() ([]byte, bool, error) {
	s.pos++ // the opening quote
	start, escaped := s.pos, false
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case '\\':
			escaped = true
			s.pos += 2
			continue
		case '"':
			raw := s.data[start:s.pos]
			s.pos++
			return raw, escaped, nil
		}
		s.pos++
	}
	return nil, false, errMalformed
}

func (s *leafScanner) object() error {
	s.pos++ // {
	base := len(s.path)
	defer func() { s.path = s.path[:base] }()
	for first := true; ; first = false {
		s.space()
		if s.pos < len(s.data) && s.data[s.pos] == '}' && first {
			s.pos++
			return nil
		}
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return errMalformed
		}
		key, escaped, err := s.str()
		if err != nil {
			return err
		}
		if escaped {
			var k string
			if err := json.Unmarshal(s.data[s.pos-len(key)-2:s.pos], &k); err != nil {
				return err
			}
			key = []byte(k)
		}
		s.path = s.path[:base]
		if base > 0 {
			s.path = append(s.path, '.')
		}
		s.path = append(s.path, key...)
		s.space()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return errMalformed
		}
		s.pos++
		if err := s.value(); err != nil {
			return err
		}
		if done, err := s.next('}'); done || err != nil {
			return err
		}
	}
}

// array reads an array; its elements' leaves all belong to its path.
func (s *leafScanner) array() error {
	s.pos++ // [
	for first := true; ; first = false {
		s.space()
		if s.pos < len(s.data) && s.data[s.pos] == ']' && first {
			s.pos++
			return nil
		}
		if err := s.value(); err != nil {
			return err
		}
		if done, err := s.next(']'); done || err != nil {
			return err
		}
	}
}

// next reads the ',' between members or elements, or the closing end.
func (s *leafScanner) next(end byte) (bool, error) {
	s.space()
	if s.pos >= len(s.data) {
		return false, errMalformed
	}
	switch s.data[s.pos] {
	case ',':
		s.pos++
		return false, nil
	case end:
		s.pos++
		return true, nil
	}
	return false, errMalformed
}
