package edge

import "testing"

func TestPathPattern(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"*", "/anything/at/all", true},
		{"/images/*.jpg", "/images/a.jpg", true},
		{"/images/*.jpg", "/images/sub/dir/a.jpg", true},
		{"/images/*.jpg", "/images/a.JPG", false},
		{"images/*.jpg", "/images/a.jpg", true},
		{"/images/*", "/images/", true},
		{"/images/*", "/images", false},
		{"/images/*", "/Images/a", false},
		{"/a?c", "/abc", true},
		{"/a?c", "/ac", false},
		{"/a?c", "/abbc", false},
		{"/exact.html", "/exact.html", true},
		{"/exact.html", "/exact.htm", false},
		{"/*.php", "/index.php", true},
		{"/*.php", "/index.php5", false},
		{"/a*b*c", "/aXbYbZc", true},
		{"/a*b*c", "/aXbYbZ", false},
		{"/*/x/?", "/p/q/x/1", true},
	}
	for _, tt := range tests {
		p := compilePattern(tt.pattern)
		if got := p.match(tt.path); got != tt.want {
			t.Errorf("%q matching %q: got %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}
