package events

// ruleSet is the compiled patterns of a bus's enabled rules, indexed so
// that an event is tried only against the branches that can match it:
// a branch with a field that must equal one of some strings (nearly every
// rule names its source or detail-type) is filed under each of those
// strings, and only the rest are tried for every event. Field paths are
// numbered once, so that matching an event reads its values by number
// rather than hashing a path per condition.
type ruleSet struct {
	names []string // rule names, by rule number
	// branches are every rule's branches, each with its rule's number.
	branches []indexedBranch
	// paths numbers the field paths the patterns name.
	paths map[string]int
	// byValue files branch numbers by path number and exact string.
	byValue map[int]map[string][]int
	// unindexed are the branches with no exact-string field.
	unindexed []int
}

type indexedBranch struct {
	rule int
	b    branch
}

// newRuleSet indexes patterns, one per rule name.
func newRuleSet(names []string, patterns []*pattern) *ruleSet {
	rs := &ruleSet{names: names, paths: map[string]int{}, byValue: map[int]map[string][]int{}}
	for r, p := range patterns {
		for _, b := range p.branches {
			b = rs.number(b)
			n := len(rs.branches)
			rs.branches = append(rs.branches, indexedBranch{rule: r, b: b})
			c := indexable(b)
			if c == nil {
				rs.unindexed = append(rs.unindexed, n)
				continue
			}
			values := rs.byValue[c.pid]
			if values == nil {
				values = map[string][]int{}
				rs.byValue[c.pid] = values
			}
			for _, m := range c.matchers {
				values[m.text] = append(values[m.text], n)
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

// indexable returns the branch's first condition that only an exact
// string satisfies, or nil.
func indexable(b branch) *condition {
next:
	for i := range b {
		c := &b[i]
		if c.exists || c.absent || len(c.matchers) == 0 {
			continue
		}
		for _, m := range c.matchers {
			if m.op != opExact || m.kind != kindString {
				continue next
			}
		}
		return c
	}
	return nil
}

// match returns the names of the rules ev matches, each once, in rule
// order.
func (rs *ruleSet) match(ev flatEvent) []string {
	// vals holds the event's values of each numbered path; a path the
	// event lacks has none, as a path to an object or an empty array.
	vals := make([][]leaf, len(rs.paths))
	for path, v := range ev {
		if pid, ok := rs.paths[path]; ok {
			vals[pid] = v
		}
	}
	hit := make([]bool, len(rs.names))
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
	}
	for pid, values := range rs.byValue {
		for _, v := range vals[pid] {
			if v.kind != kindString {
				continue
			}
			for _, n := range values[v.text] {
				try(n)
			}
		}
	}
	for _, n := range rs.unindexed {
		try(n)
	}
	var out []string
	for r, ok := range hit {
		if ok {
			out = append(out, rs.names[r])
		}
	}
	return out
}
