package overcast

import (
	"regexp"
	"strings"
	"testing"
)

func TestNewUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		u := NewUUID()
		if !re.MatchString(u) {
			t.Fatalf("NewUUID() = %q, not a version 4 UUID", u)
		}
		if seen[u] {
			t.Fatalf("NewUUID() repeated %q", u)
		}
		seen[u] = true
	}
}

func TestRandomString(t *testing.T) {
	for _, alphabet := range []string{"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "ab", "xyz"} {
		for _, n := range []int{0, 1, 17, 40} {
			s := RandomString(alphabet, n)
			if len(s) != n {
				t.Errorf("RandomString(%q, %d) has length %d", alphabet, n, len(s))
			}
			if strings.Trim(s, alphabet) != "" {
				t.Errorf("RandomString(%q, %d) = %q has letters outside the alphabet", alphabet, n, s)
			}
		}
	}
}
