package events

import "slices"

// ruleSet is the compiled patterns of a bus's enabled rules, indexed so
// that an event is tried only against the branches that can match it:
// a branch with a field whose every value must start with some string
// (an exact string, a prefix, a wildcard's literal start: nearly every
// rule names its source or detail-type) is filed under those strings, and
// only the rest are tried for every event. Field paths are numbered once,
// so that matching an event reads its values by number rather than
// hashing a path per condition.
type ruleSet struct {
	names []string // rule names, by rule number
	// branches are every rule's branches, each with its rule's number.
	branches []indexedBranch
	// paths numbers the field paths the patterns name.
	paths map[string]int
	// byPath files branch numbers by path number and leading string.
	byPath map[int]*leadIndex
	// unindexed are the branches with no such field.
	unindexed []int
}

// leadIndex files branches under the strings a field's value must start
// with; lens are the distinct lengths of those strings.
type leadIndex struct {
	byLead map[string][]int
	lens   []int
}

func (x *leadIndex) add(lead string, n int) {
	if !slices.Contains(x.lens, len(lead)) {
		x.lens = append(x.lens, len(lead))
	}
	x.byLead[lead] = append(x.byLead[lead], n)
}

type indexedBranch struct {
	rule int
	b    branch
}

// newRuleSet indexes patterns, one per rule name.
func newRuleSet(names []string, patterns []*pattern) *ruleSet {
	rs := &ruleSet{names: names, paths: map[string]int{}, byPath: map[int]*leadIndex{}}
	for r, p := range patterns {
		for _, b := range p.branches {
			b = rs.number(b)
			n := len(rs.branches)
			rs.branches = append(rs.branches, indexedBranch{rule: r, b: b})
			c, leads := indexable(b)
			if c == nil {
				rs.unindexed = append(rs.unindexed, n)
				continue
			}
			x := rs.byPath[c.pid]
			if x == nil {
				x = &leadIndex{byLead: map[string][]int{}}
				rs.byPath[c.pid] = x
			}
			for _, lead := range leads {
				x.add(lead, n)
			}
		}
	}
	return rs
}

// number returns a copy of b whose conditions carry their path numbers.
func (rs *ruleSet) number(b branch) branch {
	out := make(branch, len(b))
	for i, c := range b {
		pid, ok := rs.paths[c.path]
		if !ok {
			pid = len(rs.paths)
			rs.paths[c.path] = pid
		}
		c.pid = pid
		out[i] = c
	}
	return out
}

// indexable returns the branch condition to file it under, and the
// strings one of which the field's value must start with: the first
// condition of exact strings only, else the first whose every matcher has
// a leading string; nil when none has.
func indexable(b branch) (*condition, []string) {
	var fallback *condition
	var fallbackLeads []string
	for i := range b {
		c := &b[i]
		if c.exists || c.absent || len(c.matchers) == 0 {
			continue
		}
		leads, exact := leadsOf(c.matchers)
		if leads == nil {
			continue
		}
		if exact {
			return c, leads
		}
		if fallback == nil {
			fallback, fallbackLeads = c, leads
		}
	}
	return fallback, fallbackLeads
}

// leadsOf returns the leading strings of matchers, nil when one has none,
// and whether they are all exact strings.
func leadsOf(ms []valueMatcher) ([]string, bool) {
	leads := make([]string, 0, len(ms))
	exact := true
	for _, m := range ms {
		switch {
		case m.op == opExact && m.kind == kindString:
			leads = append(leads, m.text)
		case m.op == opPrefix && !m.fold && m.text != "":
			leads, exact = append(leads, m.text), false
		case m.op == opWildcard && len(m.parts) > 1 && m.parts[0] != "":
			leads, exact = append(leads, m.parts[0]), false
		default:
			return nil, false
		}
	}
	return leads, exact
}

// match returns the names of the rules ev matches, each once, in rule
// order.
func (rs *ruleSet) match(ev flatEvent) []string {
	vals := make([][]leaf, len(rs.paths))
	for path, v := range ev {
		if pid, ok := rs.paths[path]; ok {
			vals[pid] = v
		}
	}
	return rs.matchValues(vals)
}

// matchEvent returns the names of the rules the JSON event matches, each
// once, in rule order, reading only the fields the rules name.
func (rs *ruleSet) matchEvent(event []byte) ([]string, error) {
	vals, err := scanLeaves(event, rs.paths)
	if err != nil {
		return nil, err
	}
	return rs.matchValues(vals), nil
}

// matchValues matches an event given as the values of each numbered path;
// a path the event lacks has none, as a path to an object or an empty
// array.
func (rs *ruleSet) matchValues(vals [][]leaf) []string {
	hit := make([]bool, len(rs.names))
	hits := 0
	try := func(n int) {
		ib := &rs.branches[n]
		if hit[ib.rule] {
			return
		}
		for i := range ib.b {
			c := &ib.b[i]
			if !c.matchValues(vals[c.pid], len(vals[c.pid]) > 0) {
				return
			}
		}
		hit[ib.rule] = true
		hits++
	}
	for pid, x := range rs.byPath {
		for _, v := range vals[pid] {
			if v.kind != kindString {
				continue
			}
			for _, l := range x.lens {
				if l <= len(v.text) {
					for _, n := range x.byLead[v.text[:l]] {
						try(n)
					}
				}
			}
		}
	}
	for _, n := range rs.unindexed {
		try(n)
	}
	if hits == 0 {
		return nil
	}
	out := make([]string, 0, hits)
	for r, ok := range hit {
		if ok {
			out = append(out, rs.names[r])
		}
	}
	return out
}
