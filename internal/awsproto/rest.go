package awsproto

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// route is a compiled REST request URI template such as
// "/{Bucket}/{Key+}?uploads" or "/2015-03-31/functions/{FunctionName}".
type route struct {
	op       *Operation
	method   string
	segments []segment
	query    []queryConstraint // literal query parameters the template requires
	// required are the header and query members the input requires. S3
	// binds several operations to one template (PutObject, CopyObject,
	// UploadPart and UploadPartCopy are all PUT /{Bucket}/{Key+}); what
	// tells them apart is which required members the request carries.
	required   []binding
	superseded bool // loses ties to the operation that replaced it
	// trailingSlash is a template that ends in "/" (EFS's
	// "/2015-02-01/tags/{FileSystemId}/"): clients send the slash, and
	// the request's last, empty segment is no label.
	trailingSlash bool
}

type binding struct {
	header bool
	name   string
}

type segment struct {
	literal string // escaped literal, when label == ""
	label   string
	greedy  bool
}

type queryConstraint struct{ key, value string } // value "" means only presence

func compileRoute(op *Operation) route {
	rt := route{op: op, method: op.HTTPMethod}
	path, query, _ := strings.Cut(op.RequestURI, "?")
	rt.trailingSlash = len(path) > 1 && strings.HasSuffix(path, "/")
	for _, s := range strings.Split(strings.Trim(path, "/"), "/") {
		if s == "" {
			continue
		}
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			label := s[1 : len(s)-1]
			greedy := strings.HasSuffix(label, "+")
			rt.segments = append(rt.segments, segment{label: strings.TrimSuffix(label, "+"), greedy: greedy})
			continue
		}
		rt.segments = append(rt.segments, segment{literal: s})
	}
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			rt.query = append(rt.query, queryConstraint{k, v})
		}
	}
	if op.NewInput != nil {
		literal := map[string]bool{}
		for _, c := range rt.query {
			literal[c.key] = true
		}
		for _, m := range planOf(reflect.TypeOf(op.NewInput())).members {
			switch {
			case !m.required:
			case m.loc == inHeader:
				rt.required = append(rt.required, binding{header: true, name: m.wireName()})
			case m.loc == inQuery && m.t.kind != kindMap && !literal[m.wireName()]:
				rt.required = append(rt.required, binding{name: m.wireName()})
			}
		}
	}
	return rt
}

// requiredScore favours the routes whose required header and query members
// the request carries, and all but rules out those missing one (when no
// other route matches, the missing member is reported by validation).
func (rt *route) requiredScore(r *http.Request, query url.Values) int {
	n := 0
	for _, b := range rt.required {
		present := false
		if b.header {
			present = r.Header.Get(b.name) != ""
		} else {
			_, present = query[b.name]
		}
		if !present {
			return -1_000_000
		}
		n += 100
	}
	if rt.superseded {
		n--
	}
	return n
}

// match reports whether the request path segments and query satisfy the
// route, and returns the raw (still escaped) label values.
func (rt *route) match(method string, segs []string, query url.Values) (map[string]string, bool) {
	if method != rt.method {
		return nil, false
	}
	for _, c := range rt.query {
		vs, ok := query[c.key]
		if !ok || (c.value != "" && (len(vs) == 0 || vs[0] != c.value)) {
			return nil, false
		}
	}
	labels := map[string]string{}
	i := 0
	for si, s := range rt.segments {
		if s.greedy {
			rest := len(rt.segments) - si - 1 // segments after the greedy label
			if len(segs)-i-rest < 1 {
				return nil, false
			}
			labels[s.label] = strings.Join(segs[i:len(segs)-rest], "/")
			i = len(segs) - rest
			continue
		}
		if i >= len(segs) {
			return nil, false
		}
		if s.label != "" {
			if segs[i] == "" {
				return nil, false
			}
			labels[s.label] = segs[i]
		} else if segs[i] != s.literal {
			return nil, false
		}
		i++
	}
	if rt.trailingSlash && i == len(segs)-1 && segs[i] == "" {
		i++
	}
	if i != len(segs) {
		return nil, false
	}
	return labels, true
}

// score ranks matching routes: required query parameters first, then
// literal segments, so "GET /{Bucket}?list-type=2" beats "GET /{Bucket}".
func (rt *route) score() int {
	n := len(rt.query) * 1000
	for _, s := range rt.segments {
		switch {
		case s.label == "":
			n += 10
		case !s.greedy:
			n += 1
		}
	}
	return n
}

// router finds the operation of a REST request.
type router struct{ routes []route }

func newRouter(svc *Service) *router {
	r := &router{}
	for i := range svc.Operations {
		rt := compileRoute(&svc.Operations[i])
		rt.superseded = supersededOperations[svc.ID][rt.op.Name]
		r.routes = append(r.routes, rt)
	}
	return r
}

// rawPathSegments splits the escaped path; labels are unescaped later so an
// encoded "/" stays inside its segment.
func rawPathSegments(r *http.Request) []string {
	p := r.URL.EscapedPath()
	if i := strings.IndexByte(r.RequestURI, '?'); i >= 0 && strings.HasPrefix(r.RequestURI, "/") {
		p = r.RequestURI[:i]
	} else if strings.HasPrefix(r.RequestURI, "/") {
		p = r.RequestURI
	}
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func (rr *router) find(r *http.Request) (*route, map[string]string) {
	segs := rawPathSegments(r)
	query := r.URL.Query()
	var best *route
	var bestLabels map[string]string
	bestScore := 0
	for i := range rr.routes {
		rt := &rr.routes[i]
		labels, ok := rt.match(r.Method, segs, query)
		if !ok {
			continue
		}
		if score := rt.score() + rt.requiredScore(r, query); best == nil || score > bestScore {
			best, bestLabels, bestScore = rt, labels, score
		}
	}
	return best, bestLabels
}

// decodeRESTBindings fills the members of v bound to the URI, query string
// and headers.
func decodeRESTBindings(t *typeInfo, v reflect.Value, r *http.Request, rt *route, labels map[string]string) error {
	query := r.URL.Query()
	claimed := map[string]bool{}
	for _, c := range rt.query {
		claimed[c.key] = true
	}
	for _, m := range t.members {
		if m.loc == inQuery && m.t.kind != kindMap {
			claimed[m.wireName()] = true
		}
	}
	for _, m := range t.members {
		f := v.Field(m.index)
		switch m.loc {
		case inURI:
			raw, ok := labels[m.wireName()]
			if !ok {
				continue
			}
			s, err := url.PathUnescape(raw)
			if err != nil {
				return fmt.Errorf("%s: invalid escape in URI", m.name)
			}
			if err := setScalar(m.t, alloc(f), s, orDefault(m.tsFormat, tsISO8601)); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		case inQuery:
			if err := decodeQueryBinding(m, f, query, claimed); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		case inHeader:
			vals := r.Header.Values(m.wireName())
			if len(vals) == 0 {
				continue
			}
			if err := decodeHeader(m, f, vals); err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		case inHeaders:
			prefix := strings.ToLower(m.wireName())
			mv := reflect.MakeMap(m.t.rtype)
			for name, vals := range r.Header {
				lname := strings.ToLower(name)
				if !strings.HasPrefix(lname, prefix) || len(vals) == 0 {
					continue
				}
				mv.SetMapIndex(reflect.ValueOf(lname[len(prefix):]).Convert(m.t.rtype.Key()),
					reflect.ValueOf(strings.Join(vals, ",")).Convert(m.t.elem.rtype))
			}
			f.Set(mv) // present even when empty, as clients expect
		}
	}
	return nil
}

func decodeQueryBinding(m *member, f reflect.Value, query url.Values, claimed map[string]bool) error {
	switch m.t.kind {
	case kindMap:
		// A map bound to the query string takes the parameters that neither
		// the template nor another member claims; its values are strings
		// or lists of strings.
		mv := reflect.MakeMap(m.t.rtype)
		for k, vs := range query {
			if claimed[k] || len(vs) == 0 {
				continue
			}
			var ev reflect.Value
			if m.t.elem.kind == kindList {
				var err error
				if ev, err = scalarList(m.t.elem, vs, tsISO8601); err != nil {
					return err
				}
			} else {
				ev = reflect.New(m.t.elem.rtype).Elem()
				if err := setScalar(m.t.elem, ev, vs[0], tsISO8601); err != nil {
					return err
				}
			}
			mv.SetMapIndex(reflect.ValueOf(k).Convert(m.t.rtype.Key()), ev)
		}
		if mv.Len() > 0 {
			f.Set(mv)
		}
	case kindList:
		vs, ok := query[m.wireName()]
		if !ok {
			return nil
		}
		list, err := scalarList(m.t, vs, orDefault(m.t.coll.Member.TimestampFormat, tsISO8601))
		if err != nil {
			return err
		}
		f.Set(list)
	default:
		vs, ok := query[m.wireName()]
		if !ok || len(vs) == 0 {
			return nil
		}
		return setScalar(m.t, alloc(f), vs[0], orDefault(m.tsFormat, tsISO8601))
	}
	return nil
}

// scalarList decodes each of ss as an element of the list type t, with
// timestamps in tsFormat.
func scalarList(t *typeInfo, ss []string, tsFormat string) (reflect.Value, error) {
	list := reflect.MakeSlice(t.rtype, 0, len(ss))
	for _, s := range ss {
		item := reflect.New(t.elem.rtype).Elem()
		if err := setScalar(t.elem, item, s, tsFormat); err != nil {
			return reflect.Value{}, err
		}
		list = reflect.Append(list, item)
	}
	return list, nil
}

// decodeHeader parses a header-bound member: lists are comma-separated
// (with quoted strings), JSON values base64-encoded, timestamps HTTP dates.
func decodeHeader(m *member, f reflect.Value, vals []string) error {
	joined := strings.Join(vals, ",")
	switch {
	case m.t.kind == kindList:
		items := splitHeaderList(joined, m.t.elem.kind == kindTime && orDefault(m.t.coll.Member.TimestampFormat, tsRFC822) == tsRFC822)
		list, err := scalarList(m.t, items, orDefault(m.t.coll.Member.TimestampFormat, tsRFC822))
		if err != nil {
			return err
		}
		f.Set(list)
		return nil
	case m.jsonValue:
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(joined))
		if err != nil {
			return fmt.Errorf("header is not base64-encoded JSON")
		}
		return setScalar(m.t, alloc(f), string(b), "")
	case m.t.kind == kindString:
		return setScalar(m.t, alloc(f), joined, "")
	}
	return setScalar(m.t, alloc(f), strings.TrimSpace(joined), orDefault(m.tsFormat, tsRFC822))
}

// splitHeaderList splits a comma-separated header value. Quoted items may
// contain commas; HTTP dates contain a comma of their own, so they are
// split on every second comma.
func splitHeaderList(s string, httpDates bool) []string {
	var out []string
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if httpDates {
		parts := strings.Split(s, ",")
		for i := 0; i+1 < len(parts); i += 2 {
			out = append(out, strings.TrimSpace(parts[i]+","+parts[i+1]))
		}
		return out
	}
	var cur strings.Builder
	inQuote, escaped := false, false
	flush := func() {
		item := strings.TrimSpace(cur.String())
		if len(item) >= 2 && item[0] == '"' && item[len(item)-1] == '"' {
			item = strings.NewReplacer(`\"`, `"`, `\\`, `\`).Replace(item[1 : len(item)-1])
		}
		out = append(out, item)
		cur.Reset()
	}
	for _, c := range s {
		switch {
		case escaped:
			escaped = false
		case c == '\\' && inQuote:
			escaped = true
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			flush()
			continue
		}
		cur.WriteRune(c)
	}
	flush()
	return out
}

// encodeRESTBindings writes the header and status members of v and returns
// the status code to send.
func encodeRESTBindings(t *typeInfo, v reflect.Value, h http.Header, status int) int {
	for _, m := range t.members {
		f := v.Field(m.index)
		if !isSet(f) {
			continue
		}
		switch m.loc {
		case inStatus:
			if n := elemOf(f); n.IsValid() && n.Int() > 0 {
				status = int(n.Int())
			}
		case inHeader:
			if s, ok := headerValue(m, f); ok {
				h.Set(m.wireName(), s)
			}
		case inHeaders:
			for _, k := range sortedMapKeys(f) {
				h.Set(m.wireName()+k.String(), f.MapIndex(k).String())
			}
		}
	}
	return status
}

func headerValue(m *member, f reflect.Value) (string, bool) {
	v := elemOf(f)
	if !v.IsValid() {
		return "", false
	}
	switch {
	case m.t.kind == kindList:
		items := make([]string, v.Len())
		for i := range items {
			s := scalarString(m.t.elem, v.Index(i), orDefault(m.t.coll.Member.TimestampFormat, tsRFC822))
			if m.t.elem.kind == kindString && strings.ContainsAny(s, `,"`) {
				s = strconv.Quote(s)
			}
			items[i] = s
		}
		return strings.Join(items, ", "), true
	case m.jsonValue:
		return base64.StdEncoding.EncodeToString([]byte(v.String())), true
	}
	return scalarString(m.t, v, orDefault(m.tsFormat, tsRFC822)), true
}
