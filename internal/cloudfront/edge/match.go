package edge

import (
	"strings"

	"overcast/internal/policy"
)

// pathPattern is a cache behaviour's PathPattern, compiled once at deploy:
// `*` matches zero or more characters (across `/`), `?` exactly one, the
// match is case-sensitive and the leading `/` is optional.
type pathPattern struct {
	pattern string
	kind    patternKind
	literal string // the pattern without its trailing `*`, for kindPrefix
}

type patternKind uint8

const (
	kindAny    patternKind = iota // `*`: the default behaviour's
	kindExact                     // no wildcard
	kindPrefix                    // one trailing `*` and no other wildcard
	kindGlob
)

func compilePattern(p string) pathPattern {
	if p == "*" || p == "/*" {
		return pathPattern{pattern: "/*", kind: kindAny}
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	pp := pathPattern{pattern: p, kind: kindGlob}
	wild := strings.IndexAny(p, "*?")
	switch {
	case wild < 0:
		pp.kind = kindExact
	case wild == len(p)-1 && p[wild] == '*':
		pp.kind, pp.literal = kindPrefix, p[:wild]
	}
	return pp
}

func (p *pathPattern) match(path string) bool {
	switch p.kind {
	case kindAny:
		return true
	case kindExact:
		return path == p.pattern
	case kindPrefix:
		return strings.HasPrefix(path, p.literal)
	}
	return policy.Match(p.pattern, path) // the same `*` and `?`, case-sensitive
}
