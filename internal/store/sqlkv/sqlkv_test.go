package sqlkv

import (
	"testing"

	"overcast/internal/tabletest"
)

func TestPrefixEnd(t *testing.T) {
	// The empty prefix, and one of 0xff bytes alone, have no end: no key
	// with the prefix sorts last.
	tabletest.RunCommaOK(t, "PrefixEnd", PrefixEnd, map[string]string{
		"a":         "b",
		"a/":        "a0",
		"az":        "a{",
		"a\xff":     "b",
		"a\xff\xff": "b",
		"\xfe\xff":  "\xff",
		"é":         "\xc3\xaa",
	}, "", "\xff", "\xff\xff")
}
