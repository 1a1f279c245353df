package logs

import (
	"cmp"
	"encoding/json"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// val is a field's value: null (!ok), a number, or a string. A number
// keeps the text it came as (250, 1.50) to show it so.
type val struct {
	s   string
	n   float64
	num bool
	ok  bool
}

func strVal(s string) val  { return val{s: s, ok: true} }
func numVal(n float64) val { return val{n: n, num: true, ok: true} }

// number is v as a number: numbers, and strings that read as one (fields
// that parse extracted, "200" in a message).
func (v val) number() (float64, bool) {
	if !v.ok {
		return 0, false
	}
	if v.num {
		return v.n, true
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v.s), 64)
	return f, err == nil
}

// String is the value as results show it.
func (v val) String() string {
	switch {
	case !v.ok:
		return ""
	case v.num && v.s == "":
		return strconv.FormatFloat(v.n, 'f', -1, 64)
	}
	return v.s
}

func boolVal(b bool) val {
	if b {
		return numVal(1)
	}
	return numVal(0)
}

func (v val) truthy() bool {
	if !v.ok {
		return false
	}
	if v.num {
		return v.n != 0
	}
	return v.s != ""
}

// insightsTime is how Logs Insights shows @timestamp, @ingestionTime and
// bin() values.
const insightsTime = "2006-01-02 15:04:05.000"

func timeVal(ms int64) val {
	return val{s: time.UnixMilli(ms).UTC().Format(insightsTime), n: float64(ms), num: true, ok: true}
}

// queryEvent is one event a query reads.
type queryEvent struct {
	ts        int64
	ingestion int64
	message   string
	stream    string
	log       string // account:group, as @log shows it
	ptr       string
}

// systemFields are the fields every event has.
var systemFields = map[string]func(e *queryEvent) val{
	"@timestamp":     func(e *queryEvent) val { return timeVal(e.ts) },
	"@ingestionTime": func(e *queryEvent) val { return timeVal(e.ingestion) },
	"@message":       func(e *queryEvent) val { return strVal(e.message) },
	"@logStream":     func(e *queryEvent) val { return strVal(e.stream) },
	"@log":           func(e *queryEvent) val { return strVal(e.log) },
	"@ptr":           func(e *queryEvent) val { return strVal(e.ptr) },
}

// row is what commands see: an event's fields (the system ones, those
// discovered in a JSON message, and those parse and fields set), or a
// stats result.
type row struct {
	ev     *queryEvent
	fields map[string]val
	order  []string // field names in the order they appeared
	json   bool     // the message's JSON fields are in fields
}

func (r *row) set(name string, v val) {
	if r.fields == nil {
		r.fields = map[string]val{}
	}
	if _, ok := r.fields[name]; !ok {
		r.order = append(r.order, name)
	}
	r.fields[name] = v
}

func (r *row) get(name string) val {
	if v, ok := r.fields[name]; ok {
		return v
	}
	if r.ev == nil {
		return val{}
	}
	if f, ok := systemFields[name]; ok {
		return f(r.ev)
	}
	r.discover()
	return r.fields[name]
}

// discover adds the fields of a JSON message, flattened with dots
// (a.b, list.0), once.
func (r *row) discover() {
	if r.json || r.ev == nil {
		return
	}
	r.json = true
	msg := strings.TrimSpace(r.ev.message)
	if !strings.HasPrefix(msg, "{") {
		return
	}
	dec := json.NewDecoder(strings.NewReader(msg))
	dec.UseNumber()
	var found []struct {
		name string
		v    val
	}
	var walk func(prefix string) error
	walk = func(prefix string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case json.Delim:
			for i := 0; dec.More(); i++ {
				key := strconv.Itoa(i)
				if t == '{' {
					k, err := dec.Token()
					if err != nil {
						return err
					}
					key = k.(string)
				}
				if prefix != "" {
					key = prefix + "." + key
				}
				if err := walk(key); err != nil {
					return err
				}
			}
			_, err := dec.Token() // the closing delimiter
			return err
		case json.Number:
			f, _ := t.Float64()
			found = append(found, struct {
				name string
				v    val
			}{prefix, val{s: string(t), n: f, num: true, ok: true}})
		case string:
			found = append(found, struct {
				name string
				v    val
			}{prefix, strVal(t)})
		case bool:
			found = append(found, struct {
				name string
				v    val
			}{prefix, strVal(strconv.FormatBool(t))})
		}
		return nil
	}
	if err := walk(""); err != nil && err != io.EOF {
		return // not JSON after all: no fields, as in AWS
	}
	for _, f := range found {
		if _, set := r.fields[f.name]; !set && f.name != "" {
			r.set(f.name, f.v)
		}
	}
}

// allFields lists a row's fields for a query that names none: the system
// fields, then the discovered and extracted ones.
func (r *row) allFields() []string {
	if r.ev == nil {
		return r.order
	}
	r.discover()
	names := []string{"@timestamp", "@message", "@logStream", "@log"}
	for _, n := range r.order {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// Expressions.

type fieldRef string

func (f fieldRef) eval(r *row) val { return r.get(string(f)) }

type literal struct{ v val }

func (l literal) eval(*row) val { return l.v }

type logical struct {
	or   bool
	l, r expr
}

func (e logical) eval(r *row) val {
	if e.or {
		return boolVal(e.l.eval(r).truthy() || e.r.eval(r).truthy())
	}
	return boolVal(e.l.eval(r).truthy() && e.r.eval(r).truthy())
}

type negation struct{ e expr }

func (e negation) eval(r *row) val { return boolVal(!e.e.eval(r).truthy()) }

type comparison struct {
	op   string
	l, r expr
}

func (e comparison) eval(r *row) val {
	l, rv := e.l.eval(r), e.r.eval(r)
	if !l.ok || !rv.ok {
		return boolVal(false) // null compares with nothing
	}
	c, ok := compareVals(l, rv)
	if !ok {
		return boolVal(false)
	}
	switch e.op {
	case "=":
		return boolVal(c == 0)
	case "!=":
		return boolVal(c != 0)
	case "<":
		return boolVal(c < 0)
	case "<=":
		return boolVal(c <= 0)
	case ">":
		return boolVal(c > 0)
	}
	return boolVal(c >= 0)
}

// compareVals compares as numbers when both sides read as numbers, as
// strings otherwise.
func compareVals(a, b val) (int, bool) {
	if !a.ok || !b.ok {
		return 0, false
	}
	if x, ok := a.number(); ok {
		if y, ok := b.number(); ok {
			return cmp.Compare(x, y), true
		}
	}
	return strings.Compare(a.String(), b.String()), true
}

type matchExpr struct {
	l      expr
	re     *regexp.Regexp
	substr string
}

func (e matchExpr) eval(r *row) val {
	v := e.l.eval(r)
	if !v.ok {
		return boolVal(false)
	}
	if e.re != nil {
		return boolVal(e.re.MatchString(v.String()))
	}
	return boolVal(strings.Contains(v.String(), e.substr))
}

type inExpr struct {
	l    expr
	list []expr
}

func (e inExpr) eval(r *row) val {
	v := e.l.eval(r)
	for _, x := range e.list {
		if c, ok := compareVals(v, x.eval(r)); ok && c == 0 {
			return boolVal(true)
		}
	}
	return boolVal(false)
}

type arithmetic struct {
	op   byte
	l, r expr
}

func (e arithmetic) eval(r *row) val {
	x, ok1 := e.l.eval(r).number()
	y, ok2 := e.r.eval(r).number()
	if !ok1 || !ok2 {
		return val{}
	}
	var z float64
	switch e.op {
	case '+':
		z = x + y
	case '-':
		z = x - y
	case '*':
		z = x * y
	case '/':
		if y == 0 {
			return val{}
		}
		z = x / y
	case '%':
		if y == 0 {
			return val{}
		}
		z = math.Mod(x, y)
	}
	return numVal(z)
}

// binExpr is bin(period): @timestamp rounded down to the period.
type binExpr struct{ period time.Duration }

func (e binExpr) eval(r *row) val {
	ts, ok := r.get("@timestamp").number()
	if !ok {
		return val{}
	}
	p := float64(e.period / time.Millisecond)
	return timeVal(int64(math.Floor(ts/p) * p))
}

type callExpr struct {
	fn   func(args []val) val
	args []expr
}

func (e callExpr) eval(r *row) val {
	args := make([]val, len(e.args))
	for i, a := range e.args {
		args[i] = a.eval(r)
	}
	return e.fn(args)
}

type scalarFunc struct {
	min, max int // arguments; max -1: any number
	eval     func(args []val) val
}

func numFunc(f func(float64) float64) scalarFunc {
	return scalarFunc{1, 1, func(a []val) val {
		if x, ok := a[0].number(); ok {
			return numVal(f(x))
		}
		return val{}
	}}
}

func strFunc(f func(string) string) scalarFunc {
	return scalarFunc{1, 1, func(a []val) val {
		if !a[0].ok {
			return val{}
		}
		return strVal(f(a[0].String()))
	}}
}

var scalarFuncs = map[string]scalarFunc{
	"ispresent": {1, 1, func(a []val) val { return boolVal(a[0].ok) }},
	"isempty":   {1, 1, func(a []val) val { return boolVal(!a[0].ok || a[0].String() == "") }},
	"isblank":   {1, 1, func(a []val) val { return boolVal(!a[0].ok || strings.TrimSpace(a[0].String()) == "") }},
	"strlen": {1, 1, func(a []val) val {
		if !a[0].ok {
			return val{}
		}
		return numVal(float64(len([]rune(a[0].String()))))
	}},
	"tolower": strFunc(strings.ToLower),
	"toupper": strFunc(strings.ToUpper),
	"trim":    strFunc(strings.TrimSpace),
	"concat": {1, -1, func(a []val) val {
		var b strings.Builder
		for _, v := range a {
			b.WriteString(v.String())
		}
		return strVal(b.String())
	}},
	"abs":   numFunc(math.Abs),
	"ceil":  numFunc(math.Ceil),
	"floor": numFunc(math.Floor),
}

// Commands applied to one row at a time.

// apply runs a row-at-a-time command on r; false drops it.
func applyRowCommand(c queryCommand, r *row) bool {
	switch c := c.(type) {
	case fieldsCmd:
		for _, p := range c.projs {
			if f, isField := p.e.(fieldRef); !isField || string(f) != p.name {
				r.set(p.name, p.e.eval(r))
			}
		}
	case filterCmd:
		return c.cond.eval(r).truthy()
	case parseCmd:
		src := c.src.eval(r)
		if !src.ok {
			return true
		}
		m := c.re.FindStringSubmatch(src.String())
		if m == nil {
			return true
		}
		for i, name := range c.names {
			r.set(name, strVal(m[i+1]))
		}
	}
	return true
}

func isRowCommand(c queryCommand) bool {
	switch c.(type) {
	case fieldsCmd, filterCmd, parseCmd:
		return true
	}
	return false
}

// Aggregation.

type accumulator struct {
	count    float64
	sum      float64
	min, max val
	distinct map[string]bool
}

func (a *accumulator) add(fn string, v val) {
	if fn == "count_distinct" {
		if v.ok {
			if a.distinct == nil {
				a.distinct = map[string]bool{}
			}
			a.distinct[v.String()] = true
		}
		return
	}
	if !v.ok {
		return
	}
	a.count++
	if x, ok := v.number(); ok {
		a.sum += x
	}
	if c, _ := compareVals(v, a.min); !a.min.ok || c < 0 {
		a.min = v
	}
	if c, _ := compareVals(v, a.max); !a.max.ok || c > 0 {
		a.max = v
	}
}

func (a *accumulator) result(fn string) val {
	switch fn {
	case "count":
		return numVal(a.count)
	case "count_distinct":
		return numVal(float64(len(a.distinct)))
	case "sum":
		if a.count == 0 {
			return val{}
		}
		return numVal(a.sum)
	case "avg":
		if a.count == 0 {
			return val{}
		}
		return numVal(a.sum / a.count)
	case "min":
		return a.min
	}
	return a.max
}

// aggregation is a stats command's groups, filled a row at a time.
type aggregation struct {
	cmd    statsCmd
	groups map[string]*statsGroup
	keys   []string // in the order the groups appeared
}

type statsGroup struct {
	by   []val
	accs []accumulator
}

func newAggregation(c statsCmd) *aggregation {
	return &aggregation{cmd: c, groups: map[string]*statsGroup{}}
}

func (a *aggregation) add(r *row) {
	by := make([]val, len(a.cmd.by))
	var key strings.Builder
	for i, p := range a.cmd.by {
		by[i] = p.e.eval(r)
		if by[i].ok {
			key.WriteByte(1) // a value, distinct from null
		}
		key.WriteString(by[i].String())
		key.WriteByte(0)
	}
	g := a.groups[key.String()]
	if g == nil {
		g = &statsGroup{by: by, accs: make([]accumulator, len(a.cmd.aggs))}
		a.groups[key.String()] = g
		a.keys = append(a.keys, key.String())
	}
	for i, agg := range a.cmd.aggs {
		v := numVal(1) // count(*) counts rows
		if agg.arg != nil {
			v = agg.arg.eval(r)
		}
		g.accs[i].add(agg.fn, v)
	}
}

// rows are the groups' results, the "by" fields first, ordered by them:
// time bins newest first, like events, other values ascending.
func (a *aggregation) rows() []*row {
	groups := make([]*statsGroup, len(a.keys))
	for i, k := range a.keys {
		groups[i] = a.groups[k]
	}
	slices.SortStableFunc(groups, func(x, y *statsGroup) int {
		for i, p := range a.cmd.by {
			_, isBin := p.e.(binExpr)
			if c := compareNullsLast(x.by[i], y.by[i], isBin); c != 0 {
				return c
			}
		}
		return 0
	})
	rows := make([]*row, len(groups))
	for i, g := range groups {
		r := &row{}
		for j, p := range a.cmd.by {
			r.set(p.name, g.by[j])
		}
		for j, agg := range a.cmd.aggs {
			r.set(agg.name, g.accs[j].result(agg.fn))
		}
		rows[i] = r
	}
	return rows
}

// compareNullsLast orders values ascending, or descending, with nulls
// last either way.
func compareNullsLast(a, b val, desc bool) int {
	switch {
	case !a.ok && !b.ok:
		return 0
	case !a.ok:
		return 1
	case !b.ok:
		return -1
	}
	c, _ := compareVals(a, b)
	if desc {
		return -c
	}
	return c
}

// newestFirst orders events by time, newest first: Logs Insights' order
// when a query sorts nothing.
func newestFirst(a, b *row) int {
	return cmp.Or(cmp.Compare(b.ev.ts, a.ev.ts), strings.Compare(a.ev.ptr, b.ev.ptr))
}

// resultField is one field of a result row.
type resultField struct {
	Field string `json:"f"`
	Value string `json:"v"`
}

// run runs the query over the events scan yields, returning at most limit
// rows (fewer when the query's own limit says so) and how many events
// passed the commands before the first that needs them all.
func (q *query) run(scan func(yield func(*queryEvent) bool) error, limit int) ([][]resultField, int64, error) {
	lead := 0
	for lead < len(q.commands) && isRowCommand(q.commands[lead]) {
		lead++
	}
	rest := q.commands[lead:]
	var agg *aggregation
	if len(rest) > 0 {
		if c, ok := rest[0].(statsCmd); ok {
			agg, rest = newAggregation(c), rest[1:]
		}
	}
	// Without stats or sort first, only the newest rows can be kept: keep
	// twice as many as needed at most, cutting as they come.
	keep := -1
	if agg == nil {
		keep = limit
		if len(rest) > 0 {
			keep = -1
			if l, ok := rest[0].(limitCmd); ok {
				keep = min(limit, l.n)
			}
		}
	}
	var rows []*row
	var matched int64
	err := scan(func(ev *queryEvent) bool {
		r := &row{ev: ev}
		for _, c := range q.commands[:lead] {
			if !applyRowCommand(c, r) {
				return true
			}
		}
		matched++
		if agg != nil {
			agg.add(r)
			return true
		}
		rows = append(rows, r)
		if keep >= 0 && len(rows) > 2*keep+1024 {
			slices.SortFunc(rows, newestFirst)
			rows = rows[:keep]
		}
		return true
	})
	if err != nil {
		return nil, 0, err
	}
	if agg != nil {
		rows = agg.rows()
	} else {
		slices.SortFunc(rows, newestFirst)
	}
	for _, c := range rest {
		rows = applySetCommand(c, rows)
	}
	rows = rows[:min(len(rows), limit)]

	names := q.outputFields()
	out := make([][]resultField, 0, len(rows))
	for _, r := range rows {
		fields := names
		if fields == nil {
			fields = r.allFields()
		}
		var res []resultField
		for _, name := range fields {
			if v := r.get(name); v.ok {
				res = append(res, resultField{Field: name, Value: v.String()})
			}
		}
		if q.display != nil {
			res = res[:0]
			for _, p := range q.display {
				if v := p.e.eval(r); v.ok {
					res = append(res, resultField{Field: p.name, Value: v.String()})
				}
			}
		}
		if r.ev != nil {
			res = append(res, resultField{Field: "@ptr", Value: r.ev.ptr})
		}
		out = append(out, res)
	}
	return out, matched, nil
}

// applySetCommand runs a command on every row at once.
func applySetCommand(c queryCommand, rows []*row) []*row {
	switch c := c.(type) {
	case statsCmd:
		agg := newAggregation(c)
		for _, r := range rows {
			agg.add(r)
		}
		return agg.rows()
	case sortCmd:
		slices.SortStableFunc(rows, func(a, b *row) int {
			for _, k := range c.keys {
				if x := compareNullsLast(k.e.eval(a), k.e.eval(b), k.desc); x != 0 {
					return x
				}
			}
			return 0
		})
		return rows
	case limitCmd:
		return rows[:min(len(rows), c.n)]
	case dedupCmd:
		seen := map[string]bool{}
		kept := rows[:0]
		for _, r := range rows {
			var key strings.Builder
			for _, f := range c.fields {
				key.WriteString(f.eval(r).String())
				key.WriteByte(0)
			}
			if !seen[key.String()] {
				seen[key.String()] = true
				kept = append(kept, r)
			}
		}
		return kept
	}
	kept := rows[:0]
	for _, r := range rows {
		if applyRowCommand(c, r) {
			kept = append(kept, r)
		}
	}
	return kept
}

// outputFields are the fields results show: those that fields commands
// name (after the last stats, whose fields replace them), or nil for every
// field of each row.
func (q *query) outputFields() []string {
	var names []string
	for _, c := range q.commands {
		switch c := c.(type) {
		case fieldsCmd:
			for _, p := range c.projs {
				if !slices.Contains(names, p.name) {
					names = append(names, p.name)
				}
			}
		case statsCmd:
			names = nil
			for _, p := range c.by {
				names = append(names, p.name)
			}
			for _, a := range c.aggs {
				names = append(names, a.name)
			}
		}
	}
	return names
}
