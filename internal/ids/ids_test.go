package ids

import (
	"regexp"
	"strings"
	"testing"
)

func TestUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	s := Random()
	for range 1000 {
		u := s.UUID()
		if !re.MatchString(u) {
			t.Fatalf("UUID() = %q, not a version 4 UUID", u)
		}
		if seen[u] {
			t.Fatalf("UUID() repeated %q", u)
		}
		seen[u] = true
	}
}

func TestString(t *testing.T) {
	for _, alphabet := range []string{UpperAlnum, "ab", "xyz"} {
		for _, n := range []int{0, 1, 17, 40} {
			s := Random().String(alphabet, n)
			if len(s) != n {
				t.Errorf("String(%q, %d) has length %d", alphabet, n, len(s))
			}
			if strings.Trim(s, alphabet) != "" {
				t.Errorf("String(%q, %d) = %q has letters outside the alphabet", alphabet, n, s)
			}
		}
	}
}

func TestResource(t *testing.T) {
	re := regexp.MustCompile(`^i-[0-9a-f]{17}$`)
	if got := Random().Resource("i"); !re.MatchString(got) {
		t.Errorf("Resource(i) = %q, want i- and 17 hex digits", got)
	}
	if got := Random().Hex(5); len(got) != 5 {
		t.Errorf("Hex(5) = %q, want 5 digits", got)
	}
}

func TestSeededRepeats(t *testing.T) {
	a, b, c := Seeded(7), Seeded(7), Seeded(8)
	for range 3 {
		x, y, z := a.UUID()+a.Resource("sg"), b.UUID()+b.Resource("sg"), c.UUID()+c.Resource("sg")
		if x != y {
			t.Fatalf("same seed: got %q and %q, want equal", x, y)
		}
		if x == z {
			t.Fatalf("different seeds gave the same IDs %q", x)
		}
	}
}

func TestNilSourceIsRandom(t *testing.T) {
	var s *Source
	if a, b := s.UUID(), s.UUID(); a == b {
		t.Fatalf("nil source repeated %q", a)
	}
}
