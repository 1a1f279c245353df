package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	api "overcast/internal/api/events"
	"overcast/internal/service"
)

// jsonPath is a parsed JSONPath of the form targets use: $ followed by
// .member, ['member'] and [index] steps.
type jsonPath []pathStep

type pathStep struct {
	member string
	index  int // when member is ""
}

var errBadPath = errors.New("invalid JSONPath")

func parseJSONPath(p string) (jsonPath, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(p), "$")
	if !ok {
		return nil, errBadPath
	}
	var out jsonPath
	for rest != "" {
		switch {
		case rest[0] == '.':
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			if end == 0 {
				return nil, errBadPath
			}
			out = append(out, pathStep{member: rest[:end]})
			rest = rest[end:]
		case strings.HasPrefix(rest, "['"):
			end := strings.Index(rest, "']")
			if end < 2 {
				return nil, errBadPath
			}
			out = append(out, pathStep{member: rest[2:end]})
			rest = rest[end+2:]
		case rest[0] == '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, errBadPath
			}
			n, err := strconv.Atoi(rest[1:end])
			if err != nil || n < 0 {
				return nil, errBadPath
			}
			out = append(out, pathStep{index: n})
			rest = rest[end+1:]
		default:
			return nil, errBadPath
		}
	}
	return out, nil
}

// get returns the value at p in v, a decoded JSON document.
func (p jsonPath) get(v any) (any, bool) {
	for _, s := range p {
		switch c := v.(type) {
		case map[string]any:
			if s.member == "" {
				return nil, false
			}
			var ok bool
			if v, ok = c[s.member]; !ok {
				return nil, false
			}
		case []any:
			if s.member != "" || s.index >= len(c) {
				return nil, false
			}
			v = c[s.index]
		default:
			return nil, false
		}
	}
	return v, true
}

// checkTransformer validates an InputTransformer as PutTargets does.
func checkTransformer(it *api.InputTransformer) error {
	if len(it.InputPathsMap) > 100 {
		return invalid("InputPathsMap has more than 100 entries.")
	}
	for name, p := range it.InputPathsMap {
		if strings.HasPrefix(strings.ToUpper(name), "AWS.") {
			return invalid("Input path map key %s is not valid: keys may not start with AWS.", name)
		}
		if _, err := parseJSONPath(p); err != nil {
			return invalid("Parameter InputPathsMap is not valid: %s is not a valid JSONPath.", p)
		}
	}
	return nil
}

// invocation is what one delivery hands a target: the event as matched
// and the rule that matched it.
type invocation struct {
	event    []byte // the full event
	ruleARN  string
	ruleName string
	ingested time.Time
}

// targetInput is the text a target receives for an event: the event
// itself, the constant Input, the part InputPath selects, or the
// InputTransformer's template filled in.
func targetInput(t *api.Target, inv invocation) (string, error) {
	switch {
	case t.Input != nil:
		return *t.Input, nil
	case t.InputPath != nil:
		var doc any
		if err := json.Unmarshal(inv.event, &doc); err != nil {
			return "", err
		}
		p, err := parseJSONPath(*t.InputPath)
		if err != nil {
			return "", err
		}
		v, ok := p.get(doc)
		if !ok {
			return "", nil
		}
		return jsonText(v), nil
	case t.InputTransformer != nil:
		return transform(t.InputTransformer, inv)
	}
	return string(inv.event), nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// transform fills in an InputTransformer's template. A placeholder in a
// JSON value position takes the value's JSON form (strings quoted); inside
// a quoted string it takes the raw text, unescaped, as AWS does.
// Placeholders naming no variable stay as written.
func transform(it *api.InputTransformer, inv invocation) (string, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(inv.event))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return "", err
	}
	vars := map[string]any{}
	for name, path := range it.InputPathsMap {
		p, err := parseJSONPath(path)
		if err != nil {
			return "", err
		}
		if v, ok := p.get(doc); ok {
			vars[name] = v
		}
	}
	vars["aws.events.rule-arn"] = inv.ruleARN
	vars["aws.events.rule-name"] = inv.ruleName
	vars["aws.events.event.ingestion-time"] = inv.ingested.UTC().Format(time.RFC3339Nano)
	envelope := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != "detail" {
			envelope[k] = v
		}
	}
	vars["aws.events.event"] = envelope
	vars["aws.events.event.json"] = doc

	tmpl := service.Deref(it.InputTemplate)
	var out strings.Builder
	inString := false
	for i := 0; i < len(tmpl); i++ {
		c := tmpl[i]
		switch {
		case c == '\\' && inString && i+1 < len(tmpl):
			out.WriteByte(c)
			i++
			out.WriteByte(tmpl[i])
			continue
		case c == '"':
			inString = !inString
		case c == '<':
			end := strings.IndexByte(tmpl[i:], '>')
			if end > 0 {
				if v, ok := vars[tmpl[i+1:i+end]]; ok {
					if inString {
						out.WriteString(rawText(v))
					} else {
						out.WriteString(jsonText(v))
					}
					i += end
					continue
				}
			}
		}
		out.WriteByte(c)
	}
	return out.String(), nil
}

// rawText is a value as it goes inside a quoted string: a string's own
// characters, anything else its JSON text.
func rawText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return jsonText(v)
}
