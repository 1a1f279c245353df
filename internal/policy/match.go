package policy

import "strings"

// Match reports whether s matches pattern, in which '*' stands for any run
// of characters (none included) and '?' for any one character: the
// wildcards of policy actions, resources and StringLike conditions.
// It is case-sensitive, as resources and condition values are.
func Match(pattern, s string) bool {
	return match(pattern, s, false)
}

// matchAction matches an action pattern: service prefixes and action names
// are case-insensitive ("S3:getobject" is s3:GetObject).
func matchAction(pattern, action string) bool {
	return match(pattern, action, true)
}

// match is a glob that backtracks only to the last '*', so it takes
// O(len(pattern)·len(s)) at worst, whatever the pattern: policies come from
// callers.
func match(pattern, s string, foldCase bool) bool {
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || sameByte(pattern[p], s[i], foldCase)):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// sameByte compares bytes, ASCII letters without case when foldCase:
// action names are ASCII, and folding bytewise needs no allocation.
func sameByte(a, b byte, foldCase bool) bool {
	if a == b {
		return true
	}
	if !foldCase {
		return false
	}
	return lower(a) == lower(b)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// matchARN matches an ARN against an ARN pattern the way the Arn condition
// operators do: each of the six colon-separated fields on its own, with
// wildcards, so that "*" in the region field cannot swallow the account.
func matchARN(pattern, arn string) bool {
	pp := strings.SplitN(pattern, ":", 6)
	ap := strings.SplitN(arn, ":", 6)
	if len(pp) != 6 || len(ap) != 6 {
		return pattern == arn
	}
	for i := range pp {
		if !Match(pp[i], ap[i]) {
			return false
		}
	}
	return true
}
