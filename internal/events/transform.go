package events

import (
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

// get returns the JSON text of the value at p in the document doc, as
// written there (members in their order, numbers as written).
func (p jsonPath) get(doc json.RawMessage) (json.RawMessage, bool) {
	for _, step := range p {
		if step.member != "" {
			var obj map[string]json.RawMessage
			if json.Unmarshal(doc, &obj) != nil {
				return nil, false
			}
			var ok bool
			if doc, ok = obj[step.member]; !ok {
				return nil, false
			}
			continue
		}
		var arr []json.RawMessage
		if json.Unmarshal(doc, &arr) != nil || step.index >= len(arr) {
			return nil, false
		}
		doc = arr[step.index]
	}
	return doc, true
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
		p, err := parseJSONPath(*t.InputPath)
		if err != nil {
			return "", err
		}
		v, _ := p.get(inv.event)
		return string(v), nil
	case t.InputTransformer != nil:
		return transform(t.InputTransformer, inv)
	}
	return string(inv.event), nil
}

// envelope is an event without its detail (what the reserved
// aws.events.event variable holds), its members in AWS's order.
type envelope struct {
	Version    string   `json:"version"`
	ID         string   `json:"id"`
	DetailType string   `json:"detail-type"`
	Source     string   `json:"source"`
	Account    string   `json:"account"`
	Time       string   `json:"time"`
	Region     string   `json:"region"`
	Resources  []string `json:"resources"`
}

func jsonText(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// transform fills in an InputTransformer's template. A placeholder in a
// JSON value position takes the value's JSON text (strings quoted); inside
// a quoted string it takes the raw text, unescaped, as AWS does.
// Placeholders naming no variable stay as written.
func transform(it *api.InputTransformer, inv invocation) (string, error) {
	vars := map[string]json.RawMessage{}
	for name, path := range it.InputPathsMap {
		p, err := parseJSONPath(path)
		if err != nil {
			return "", err
		}
		if v, ok := p.get(inv.event); ok {
			vars[name] = v
		}
	}
	var env envelope
	if err := json.Unmarshal(inv.event, &env); err != nil {
		return "", err
	}
	vars["aws.events.rule-arn"] = jsonText(inv.ruleARN)
	vars["aws.events.rule-name"] = jsonText(inv.ruleName)
	vars["aws.events.event.ingestion-time"] = jsonText(inv.ingested.UTC().Format(time.RFC3339Nano))
	vars["aws.events.event"] = jsonText(env)
	vars["aws.events.event.json"] = inv.event

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
						out.Write(v)
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
func rawText(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}
