package awsproto

import (
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRouteTrailingSlash: a template that ends in "/" matches what clients
// send, with the slash or without, and the slash is never a label.
func TestRouteTrailingSlash(t *testing.T) {
	tags := compileRoute(&Operation{Name: "DescribeTags", HTTPMethod: "GET", RequestURI: "/2015-02-01/tags/{FileSystemId}/"})
	object := compileRoute(&Operation{Name: "GetObject", HTTPMethod: "GET", RequestURI: "/{Bucket}/{Key+}"})
	tests := []struct {
		name  string
		route route
		path  string
		want  map[string]string // nil: no match
	}{
		{"with the slash", tags, "/2015-02-01/tags/fs-1/", map[string]string{"FileSystemId": "fs-1"}},
		{"without it", tags, "/2015-02-01/tags/fs-1", map[string]string{"FileSystemId": "fs-1"}},
		{"an empty label", tags, "/2015-02-01/tags//", nil},
		{"a segment too many", tags, "/2015-02-01/tags/fs-1/x", nil},
		{"a greedy key keeps its slash", object, "/b/dir/", map[string]string{"Bucket": "b", "Key": "dir/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.route.match("GET", rawPathSegments(httptest.NewRequest("GET", tt.path, nil)), nil)
			if !ok {
				got = nil
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("labels of %s (-want +got):\n%s", tt.path, diff)
			}
		})
	}
}
