package logs

import (
	"testing"

	"overcast/internal/awsproto"
	"overcast/internal/tabletest"
)

func TestPatternMatch(t *testing.T) {
	const (
		plain   = `2024-05-01 ERROR [main] Exiting: connection refused`
		warn    = `2024-05-01 WARN disk almost full`
		apiJSON = `{"level":"ERROR","latency":250,"user":{"name":"alice","id":"u-42"},"tags":["a","b"],"ok":false,"gone":null,"code":"200"}`
		access  = `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326`
	)
	tests := []struct {
		pattern string
		msg     string
		want    bool
	}{
		// Terms.
		{"", plain, true},
		{"   ", plain, true},
		{"ERROR", plain, true},
		{"error", plain, false}, // case-sensitive
		{"ERROR Exiting", plain, true},
		{"ERROR Missing", plain, false},
		{`"connection refused"`, plain, true},
		{`"refused connection"`, plain, false},
		{"ERROR -Exiting", plain, false},
		{"ERROR -Timeout", plain, true},
		{`-"connection refused"`, plain, false},
		{"?ERROR ?WARN", plain, true},
		{"?ERROR ?WARN", warn, true},
		{"?FATAL ?PANIC", warn, false},
		{"WARN ?disk ?cpu", warn, true},
		{"%ERR(OR)?%", plain, true},
		{"%^2024-05-01 WARN%", plain, false},

		// JSON.
		{`{ $.level = "ERROR" }`, apiJSON, true},
		{`{$.level="ERROR"}`, apiJSON, true},
		{`{ $.level = ERROR }`, apiJSON, true},
		{`{ $.level = "error" }`, apiJSON, false},
		{`{ $.level != "INFO" }`, apiJSON, true},
		{`{ $.level != "ERROR" }`, apiJSON, false},
		{`{ $.missing != "x" }`, apiJSON, false},
		{`{ $.user.name = "alice" }`, apiJSON, true},
		{`{ $.user.name = "al*" }`, apiJSON, true},
		{`{ $.user.name = "*ic*" }`, apiJSON, true},
		{`{ $.user.name = "*bob*" }`, apiJSON, false},
		{`{ $.user.id = u-* }`, apiJSON, true},
		{`{ $.latency > 5 }`, apiJSON, true},
		{`{ $.latency >= 250 }`, apiJSON, true},
		{`{ $.latency < 250 }`, apiJSON, false},
		{`{ $.latency <= 250.0 }`, apiJSON, true},
		{`{ $.latency = 250 }`, apiJSON, true},
		{`{ $.latency = * }`, apiJSON, true}, // any value
		{`{ $.gone = * }`, apiJSON, false},
		{`{ $.latency != 250 }`, apiJSON, false},
		{`{ $.code = 200 }`, apiJSON, false}, // a string is not a number
		{`{ $.code = "200" }`, apiJSON, true},
		{`{ $.tags[1] = "b" }`, apiJSON, true},
		{`{ $.tags[5] = "b" }`, apiJSON, false},
		{`{ $.level = "ERROR" && $.latency > 100 }`, apiJSON, true},
		{`{ $.level = "ERROR" && $.latency > 1000 }`, apiJSON, false},
		{`{ $.level = "INFO" || $.latency > 100 }`, apiJSON, true},
		{`{ ($.level = "INFO" || $.level = "ERROR") && $.user.name = "alice" }`, apiJSON, true},
		{`{ ($.level = "INFO" || $.level = "WARN") && $.user.name = "alice" }`, apiJSON, false},
		{`{ $.ok IS FALSE }`, apiJSON, true},
		{`{ $.ok IS TRUE }`, apiJSON, false},
		{`{ $.gone IS NULL }`, apiJSON, true},
		{`{ $.level IS NULL }`, apiJSON, false},
		{`{ $.nothing NOT EXISTS }`, apiJSON, true},
		{`{ $.level NOT EXISTS }`, apiJSON, false},
		{`{ $.level = "ERROR" }`, plain, false}, // not JSON at all
		{`{ $.level = "ERROR" }`, `{"level": "ERR`, false},

		// Space-delimited.
		{`[ip, identity, user, timestamp, request, status, size]`, access, true},
		{`[ip, identity, user, timestamp, request, status = 404, size]`, access, true},
		{`[ip, identity, user, timestamp, request, status = 200, size]`, access, false},
		{`[ip, identity, user, timestamp, request, status = 4*, size > 1000]`, access, true},
		{`[ip, identity, user, timestamp, request = "GET *", ...]`, access, true},
		{`[ip = 10.*, ...]`, access, false},
		{`[..., status = 404 || status = 500, size]`, access, true},
		{`[ip, user]`, access, false}, // field count differs
	}
	for _, tt := range tests {
		p, err := compilePattern(tt.pattern)
		if err != nil {
			t.Errorf("compilePattern(%q): %v", tt.pattern, err)
			continue
		}
		if got := p.match(tt.msg); got != tt.want {
			t.Errorf("pattern %q on %q: got %v, want %v", tt.pattern, tt.msg, got, tt.want)
		}
	}
}

func TestPatternErrors(t *testing.T) {
	for _, bad := range []string{
		`{ $.level = "ERROR" `,
		`{ level = "ERROR" }`,
		`{ $.level = }`,
		`{ $.level > "x" }`,
		`{ ($.a = 1 }`,
		`{ $.a IS MAYBE }`,
		`"unterminated`,
		`%[%`,
		`[a, , b]`,
		`[a > x]`,
	} {
		if _, err := compilePattern(bad); err == nil {
			t.Errorf("compilePattern(%q): got no error, want InvalidParameterException", bad)
		} else if code, _ := apiCode(err); code != "InvalidParameterException" {
			t.Errorf("compilePattern(%q): got %v, want InvalidParameterException", bad, err)
		}
	}
}

func TestGlob(t *testing.T) {
	type patternString struct{ pat, s string }
	globOf := func(in patternString) bool { return glob(in.pat, in.s) }
	tabletest.Run(t, "glob", globOf, map[patternString]bool{
		{"abc", "abc"}:       true,
		{"abc", "abcd"}:      false,
		{"*", ""}:            true,
		{"a*", "abc"}:        true,
		{"*c", "abc"}:        true,
		{"a*c", "abc"}:       true,
		{"a*c", "ab"}:        false,
		{"a*b*c", "axxbyyc"}: true,
		{"a*b*c", "axxcyyb"}: false,
		{"ab*ba", "aba"}:     false,
	})
}

// apiCode returns an API error's code and message.
func apiCode(err error) (code, message string) {
	e, ok := awsproto.AsAPIError(err)
	if !ok {
		return "", err.Error()
	}
	return e.ErrorCode(), e.ErrorMessage()
}
