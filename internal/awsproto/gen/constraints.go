package main

import (
	"sort"
	"strconv"
	"strings"

	"overcast/internal/awsproto"
	"overcast/internal/awsproto/botocore"
)

// The model's constraints (min, max, pattern, enum) travel to the codec as
// one awsproto.Constraint per constrained shape that requests use: each
// structure refers to its members' in an AWSConstraints method, and lists
// and maps to their elements' in AWSCollection. Shapes only responses use
// get none; the codec validates requests only.

// inputShapes marks every shape reachable from an operation's input.
func (g *generator) inputShapes() map[string]bool {
	seen := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		s := g.m.Shapes[name]
		if s == nil || seen[name] {
			return
		}
		seen[name] = true
		for _, r := range s.Members {
			visit(r.Shape)
		}
		for _, r := range []*botocore.Ref{s.Member, s.Key, s.Value} {
			if r != nil {
				visit(r.Shape)
			}
		}
	}
	for _, name := range sortedKeys(g.m.Operations) {
		if in := g.m.Operations[name].Input; in != nil {
			visit(in.Shape)
		}
	}
	return seen
}

// constrained reports whether a shape has a constraint the codec checks.
func constrained(s *botocore.Shape) bool {
	if s.Streaming || s.Document {
		return false
	}
	switch s.Type {
	case "string", "blob", "list", "map", "byte", "short", "integer", "long", "float", "double":
		return s.Min != nil || s.Max != nil || s.Pattern != "" || len(s.Enum) > 0
	}
	return false
}

// nameConstraints gives each constrained input shape its variable.
func (g *generator) nameConstraints() {
	g.inputs = g.inputShapes()
	g.constraintVars = map[string]string{}
	for _, name := range sortedKeys(g.m.Shapes) {
		if g.inputs[name] && constrained(g.m.Shapes[name]) {
			g.constraintVars[name] = g.claim("constraint" + exportName(name))
		}
	}
}

// constraintDecls declares the constraint variables, in shape order.
func (g *generator) constraintDecls() {
	if len(g.constraintVars) == 0 {
		return
	}
	names := make([]string, 0, len(g.constraintVars))
	for name := range g.constraintVars {
		names = append(names, name)
	}
	sort.Strings(names)
	g.printf("// Constraints the model puts on the shapes requests use.\nvar (\n")
	for _, name := range names {
		s := g.m.Shapes[name]
		var fields []string
		if s.Min != nil {
			fields = append(fields, "Min: new("+floatLiteral(*s.Min)+")")
		}
		if s.Max != nil {
			fields = append(fields, "Max: new("+floatLiteral(*s.Max)+")")
		}
		if s.Pattern != "" {
			if _, err := awsproto.GoPattern(s.Pattern); err != nil {
				g.printf("\t// The pattern of %s is not checked: RE2 cannot express it.\n", name)
			}
			fields = append(fields, "Pattern: "+goString(s.Pattern))
		}
		if len(s.Enum) > 0 {
			quoted := make([]string, len(s.Enum))
			for i, v := range s.Enum {
				quoted[i] = strconv.Quote(v)
			}
			fields = append(fields, "Enum: []string{"+strings.Join(quoted, ", ")+"}")
		}
		if s.Sensitive {
			fields = append(fields, "Sensitive: true")
		}
		g.printf("\t%s = &awsproto.Constraint{%s}\n", g.constraintVars[name], strings.Join(fields, ", "))
	}
	g.printf(")\n\n")
}

// constraintsMethod emits the AWSConstraints method of an input structure
// with constrained members.
func (g *generator) constraintsMethod(name, goName string, s *botocore.Shape) {
	if !g.inputs[name] {
		return
	}
	var entries []string
	for _, m := range s.MemberOrder {
		if v, ok := g.constraintVars[s.Members[m].Shape]; ok {
			entries = append(entries, "\t\t"+strconv.Quote(m)+": "+v+",\n")
		}
	}
	if len(entries) == 0 {
		return
	}
	g.printf("func (%s) AWSConstraints() map[string]*awsproto.Constraint {\n\treturn map[string]*awsproto.Constraint{\n%s\t}\n}\n\n", goName, strings.Join(entries, ""))
}

// elemConstraint is the Constraint field of a list or map element's
// traits, or "".
func (g *generator) elemConstraint(collection string, r *botocore.Ref) string {
	if !g.inputs[collection] {
		return ""
	}
	if v, ok := g.constraintVars[r.Shape]; ok {
		return "Constraint: " + v
	}
	return ""
}

// floatLiteral writes a bound as a Go floating-point literal.
func floatLiteral(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// goString quotes s as a raw string when it reads better that way.
func goString(s string) string {
	if strings.ContainsAny(s, "`\r") || strconv.Quote(s) == `"`+s+`"` {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return "`" + s + "`"
}
