package authz

import (
	"bytes"
	"encoding/json"

	"overcast"
	"overcast/internal/policy"
)

// Simulation is a question for IAM's policy simulator: may a principal
// with these policies do an action on a resource, given a context? It is
// decided by the same evaluation as enforcement.
type Simulation struct {
	// Caller is the principal simulated (CallerArn, or the policy source).
	Caller overcast.Caller
	// Identity holds the identity-based policies and the boundary.
	Identity *Identity
	// Resource is the resource's owner and policy (ResourcePolicy,
	// ResourceOwner), when given.
	Resource Resource
	// Context are the ContextEntries, by key.
	Context map[string][]string
}

// Simulate decides action on resource ("*" for none) as enforcement would.
func Simulate(sim Simulation, action, resource string) Decision {
	ev := &evaluation{subject: &subject{caller: sim.Caller, principal: policy.PrincipalOf(sim.Caller), identity: sim.Identity},
		context: sim.Context}
	if ev.identity == nil {
		ev.identity = &Identity{}
	}
	return ev.decide(action, resource, sim.Resource, nil)
}

// Position is a place in a policy's text: lines and columns from 1.
type Position struct{ Line, Column int }

// StatementPositions returns where each statement of a policy's text
// starts and ends, in the order of its Statement element; nil when the
// text does not parse.
func StatementPositions(text string) [][2]Position {
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil
		}
		if key != "Statement" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
			continue
		}
		var spans [][2]int
		start := skipSpace(text, int(dec.InputOffset()))
		if start < len(text) && text[start] == '[' {
			if _, err := dec.Token(); err != nil {
				return nil
			}
			for dec.More() {
				s := skipSpace(text, int(dec.InputOffset()))
				var st json.RawMessage
				if dec.Decode(&st) != nil {
					return nil
				}
				spans = append(spans, [2]int{s, int(dec.InputOffset())})
			}
		} else {
			var st json.RawMessage
			if dec.Decode(&st) != nil {
				return nil
			}
			spans = append(spans, [2]int{start, int(dec.InputOffset())})
		}
		out := make([][2]Position, len(spans))
		for i, sp := range spans {
			out[i] = [2]Position{position(text, sp[0]), position(text, sp[1]-1)} // the end is the closing brace
		}
		return out
	}
	return nil
}

// skipSpace returns the offset of the first character at or after i that
// is neither white space nor a separator.
func skipSpace(text string, i int) int {
	for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r' || text[i] == ':' || text[i] == ',') {
		i++
	}
	return i
}

func position(text string, offset int) Position {
	p := Position{Line: 1, Column: 1}
	for _, c := range text[:min(offset, len(text))] {
		if c == '\n' {
			p.Line++
			p.Column = 1
		} else {
			p.Column++
		}
	}
	return p
}
