package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Document is a parsed policy document.
type Document struct {
	Version   string // "2012-10-17", "2008-10-17", or "" when absent
	ID        string
	Statement []Statement
}

// Effect is a statement's Effect.
type Effect string

const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Statement is one statement. Of each pair (Principal/NotPrincipal,
// Action/NotAction, Resource/NotResource) at most one is set; nil means the
// element is absent, which for Principal and Resource means "any" (identity
// policies name no principal, trust and repository policies no resource).
type Statement struct {
	Sid          string
	Effect       Effect
	Principal    *Principals
	NotPrincipal *Principals
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	Condition    []Condition // sorted by operator, then key
}

// Principals is a Principal or NotPrincipal element: "*", or principals by
// type.
type Principals struct {
	All           bool     // "*"
	AWS           []string // "*", account IDs, account root, user, role and session ARNs
	Service       []string // e.g. cloudfront.amazonaws.com
	Federated     []string
	CanonicalUser []string
}

// Condition is one key of one operator of a Condition element:
// {"StringEquals": {"aws:SourceArn": ["a", "b"]}} is one Condition with two
// Values. Booleans and numbers are kept as their JSON text.
type Condition struct {
	Operator string
	Key      string
	Values   []string

	op  operator
	key string // Key in lower case: condition keys are case-insensitive
}

// ErrInvalidJSON is what a document that is not one JSON object wraps:
// services that word that fault their own way test for it.
var ErrInvalidJSON = errors.New("policy: not a JSON object")

// Error is a document that breaks the grammar of its kind. Message is
// AWS's text for the fault; each service sends it under its own error code.
type Error struct {
	Message string
	err     error
}

func (e *Error) Error() string { return "policy: " + e.Message }
func (e *Error) Unwrap() error { return e.err }

// Parse reads a policy document for evaluation without checking it
// against a kind's grammar: use it for documents that were validated when
// they were stored. It fails when text is not a JSON object, or when an
// element it evaluates has the wrong shape; unknown elements are ignored.
func Parse(text string) (*Document, error) {
	raw, err := decode(text)
	if err != nil {
		return nil, &Error{Message: msgInvalidJSON, err: ErrInvalidJSON}
	}
	d, err := raw.build()
	if err != nil {
		return nil, &Error{Message: msgSyntax}
	}
	return d, nil
}

// object is a decoded JSON object, its members still encoded. A key given
// twice keeps its last value, as AWS's parsers do.
type object map[string]json.RawMessage

// rawDocument is a document decoded as far as its statements.
type rawDocument struct {
	top object
	// statements is nil when Statement is absent or not an object or a
	// list of objects; stmtErr says which.
	statements []object
	stmtErr    error
}

var (
	errNoStatement    = errors.New("no Statement")
	errEmptyStatement = errors.New("empty Statement")
	errBadStatement   = errors.New("statement is not an object or a list of objects")
)

// decode reads text as exactly one JSON object, and its Statement as one
// object or a non-empty list of them.
func decode(text string) (*rawDocument, error) {
	top, err := decodeObject([]byte(text))
	if err != nil {
		return nil, err
	}
	d := &rawDocument{top: top}
	raw, ok := top["Statement"]
	switch {
	case !ok:
		d.stmtErr = errNoStatement
	case isObject(raw):
		var st object
		if json.Unmarshal(raw, &st) != nil {
			d.stmtErr = errBadStatement
		} else {
			d.statements = []object{st}
		}
	default:
		var list []object
		switch {
		case json.Unmarshal(raw, &list) != nil || list == nil:
			d.stmtErr = errBadStatement
		case len(list) == 0:
			d.stmtErr = errEmptyStatement
		case slicesContainsNil(list):
			d.stmtErr = errBadStatement
		default:
			d.statements = list
		}
	}
	return d, nil
}

func slicesContainsNil(list []object) bool {
	for _, o := range list {
		if o == nil {
			return true
		}
	}
	return false
}

// decodeObject decodes exactly one JSON object and nothing after it.
// Keys stay case-sensitive, as AWS's are ("effect" is not "Effect").
func decodeObject(b []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var obj object
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, errors.New("not an object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the policy")
	}
	return obj, nil
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// build turns a decoded document into the model; an element of the wrong
// shape is an error.
func (r *rawDocument) build() (*Document, error) {
	if r.stmtErr != nil {
		return nil, r.stmtErr
	}
	d := &Document{}
	if raw, ok := r.top["Version"]; ok && json.Unmarshal(raw, &d.Version) != nil {
		return nil, errors.New("version is not a string")
	}
	if raw, ok := r.top["Id"]; ok && json.Unmarshal(raw, &d.ID) != nil {
		return nil, errors.New("id is not a string")
	}
	for _, o := range r.statements {
		st, err := buildStatement(o)
		if err != nil {
			return nil, err
		}
		d.Statement = append(d.Statement, st)
	}
	return d, nil
}

func buildStatement(o object) (Statement, error) {
	var st Statement
	if raw, ok := o["Sid"]; ok && json.Unmarshal(raw, &st.Sid) != nil {
		return st, errors.New("sid is not a string")
	}
	if json.Unmarshal(o["Effect"], &st.Effect) != nil || (st.Effect != Allow && st.Effect != Deny) {
		return st, errors.New("effect is not Allow or Deny")
	}
	var err error
	for _, el := range []struct {
		name string
		dst  *[]string
	}{{"Action", &st.Action}, {"NotAction", &st.NotAction}, {"Resource", &st.Resource}, {"NotResource", &st.NotResource}} {
		if raw, ok := o[el.name]; ok {
			if *el.dst, err = stringOrList(raw); err != nil {
				return st, err
			}
		}
	}
	if raw, ok := o["Principal"]; ok {
		if st.Principal, err = buildPrincipals(raw); err != nil {
			return st, err
		}
	}
	if raw, ok := o["NotPrincipal"]; ok {
		if st.NotPrincipal, err = buildPrincipals(raw); err != nil {
			return st, err
		}
	}
	if raw, ok := o["Condition"]; ok {
		if st.Condition, err = buildConditions(raw); err != nil {
			return st, err
		}
	}
	return st, nil
}

// stringOrList reads "a string or a list of strings"; an empty list stays
// an empty, non-nil slice, which matches nothing.
func stringOrList(raw json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	many := []string{}
	if err := json.Unmarshal(raw, &many); err != nil || many == nil {
		return nil, errors.New("not a string or a list of strings")
	}
	return many, nil
}

// scalarOrList reads a condition value: a string, number or boolean, or a
// list of them, each kept as text.
func scalarOrList(raw json.RawMessage) ([]string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // 10 stays "10", not "1e+01"
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		switch x := x.(type) {
		case string:
			out = append(out, x)
		case bool:
			out = append(out, strconv.FormatBool(x))
		case json.Number:
			out = append(out, x.String())
		default:
			return nil, errors.New("condition value is not a scalar")
		}
	}
	return out, nil
}

func buildPrincipals(raw json.RawMessage) (*Principals, error) {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			return nil, errors.New("principal is a string other than *")
		}
		return &Principals{All: true}, nil
	}
	var byType object
	if json.Unmarshal(raw, &byType) != nil || byType == nil {
		return nil, errors.New("principal is not * or an object")
	}
	p := &Principals{}
	for typ, raw := range byType {
		values, err := stringOrList(raw)
		if err != nil {
			return nil, err
		}
		switch typ {
		case "AWS":
			p.AWS = values
		case "Service":
			p.Service = values
		case "Federated":
			p.Federated = values
		case "CanonicalUser":
			p.CanonicalUser = values
		}
	}
	return p, nil
}

func buildConditions(raw json.RawMessage) ([]Condition, error) {
	var ops map[string]object
	if json.Unmarshal(raw, &ops) != nil || ops == nil {
		return nil, errors.New("condition is not an object of objects")
	}
	var out []Condition
	for op, keys := range ops {
		if keys == nil {
			return nil, errors.New("condition operator without keys")
		}
		parsed := parseOperator(op)
		for key, raw := range keys {
			values, err := scalarOrList(raw)
			if err != nil {
				return nil, err
			}
			out = append(out, Condition{Operator: op, Key: key, Values: values, op: parsed, key: strings.ToLower(key)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Operator != out[j].Operator {
			return out[i].Operator < out[j].Operator
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// Size is a document's size as IAM's quotas count it: characters, white
// space excluded.
func Size(text string) int {
	n := 0
	for _, r := range text {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}
