package main

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"overcast/internal/awsproto/botocore"
)

// queryCompat holds, per service, the query-protocol traits that AWS's
// current models of JSON services with awsQueryCompatible no longer carry
// (SQS moved to JSON in 2023): the element and key names of the query era
// (Attribute.1.Name, <Message>), the result wrappers and the query error
// codes. Older clients (aws CLI v2 before 2.13, SDKs of that time) still
// speak query, so the generated service serves both. Each file is a
// botocore model reduced to those traits, taken from the last query model.
//
//go:embed querycompat/*.json
var queryCompat embed.FS

// overlay is a querycompat file.
type overlay struct {
	Metadata struct {
		Protocols    []string `json:"protocols"`
		XMLNamespace string   `json:"xmlNamespace"`
	} `json:"metadata"`
	Operations map[string]struct {
		Output struct {
			ResultWrapper string `json:"resultWrapper"`
		} `json:"output"`
	} `json:"operations"`
	Shapes map[string]struct {
		Members map[string]struct{ LocationName string } `json:"members"`
		Member  *struct{ LocationName string }           `json:"member"`
		Key     *struct{ LocationName string }           `json:"key"`
		Value   *struct{ LocationName string }           `json:"value"`
		Error   *struct{ Code string }                   `json:"error"`
	} `json:"shapes"`
}

// addQueryCompat merges the service's querycompat traits into m, if it has
// any.
func addQueryCompat(m *botocore.Model, id string) error {
	b, err := queryCompat.ReadFile("querycompat/" + id + ".json")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var o overlay
	if err := json.Unmarshal(b, &o); err != nil {
		return fmt.Errorf("gen: querycompat/%s.json: %w", id, err)
	}
	if len(m.Metadata.Protocols) == 0 {
		m.Metadata.Protocols = []string{m.Metadata.Protocol}
	}
	m.Metadata.Protocols = append(m.Metadata.Protocols, o.Metadata.Protocols...)
	m.Metadata.XMLNamespace = o.Metadata.XMLNamespace
	for name, op := range o.Operations {
		if mop, ok := m.Operations[name]; ok && mop.Output != nil {
			out := *mop.Output
			out.ResultWrapper = op.Output.ResultWrapper
			mop.Output = &out
			m.Operations[name] = mop
		}
	}
	for name, traits := range o.Shapes {
		s, ok := m.Shapes[name]
		if !ok {
			return fmt.Errorf("gen: querycompat/%s.json: no shape %s in the model", id, name)
		}
		for member, t := range traits.Members {
			r, ok := s.Members[member]
			if !ok {
				return fmt.Errorf("gen: querycompat/%s.json: no member %s.%s in the model", id, name, member)
			}
			// The query name only: JSON keeps the member's own name.
			r.QueryCompatName = t.LocationName
		}
		for _, ref := range []struct {
			from *struct{ LocationName string }
			to   *botocore.Ref
		}{{traits.Member, s.Member}, {traits.Key, s.Key}, {traits.Value, s.Value}} {
			if ref.from != nil && ref.to != nil {
				ref.to.LocationName = ref.from.LocationName
			}
		}
		if traits.Error != nil {
			if s.Error == nil {
				s.Error = &botocore.ShapeErrorTraits{}
			}
			s.Error.Code = traits.Error.Code
		}
	}
	return nil
}
