package s3_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/go-cmp/cmp"
)

// listAllV2 pages through ListObjectsV2 and returns keys and prefixes in
// the order they came, and the number of pages.
func listAllV2(t *testing.T, c *s3.Client, in s3.ListObjectsV2Input) (keys, prefixes []string, pages int) {
	t.Helper()
	p := s3.NewListObjectsV2Paginator(c, &in)
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		pages++
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		for _, cp := range out.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(cp.Prefix))
		}
	}
	return keys, prefixes, pages
}

func TestListObjects(t *testing.T) {
	_, c := start(t)
	createBucket(t, c, "listing")
	keys := []string{"a.txt", "b/1", "b/2", "b/c/3", "c/4", "d", "d/5", "e+f g", "z"}
	for _, k := range keys {
		putObject(t, c, "listing", k, k)
	}
	tests := []struct {
		name         string
		in           s3.ListObjectsV2Input
		keys, prefix []string
		pages        int
	}{
		{"all", s3.ListObjectsV2Input{}, keys, nil, 1},
		{"pages of 2", s3.ListObjectsV2Input{MaxKeys: aws.Int32(2)}, keys, nil, 5},
		{"prefix", s3.ListObjectsV2Input{Prefix: aws.String("b/")}, []string{"b/1", "b/2", "b/c/3"}, nil, 1},
		{"delimiter", s3.ListObjectsV2Input{Delimiter: aws.String("/")},
			[]string{"a.txt", "d", "e+f g", "z"}, []string{"b/", "c/", "d/"}, 1},
		{"delimiter, pages of 1", s3.ListObjectsV2Input{Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)},
			[]string{"a.txt", "d", "e+f g", "z"}, []string{"b/", "c/", "d/"}, 7},
		{"prefix and delimiter", s3.ListObjectsV2Input{Prefix: aws.String("b/"), Delimiter: aws.String("/")},
			[]string{"b/1", "b/2"}, []string{"b/c/"}, 1},
		{"start-after", s3.ListObjectsV2Input{StartAfter: aws.String("c/4")}, []string{"d", "d/5", "e+f g", "z"}, nil, 1},
		{"start-after a prefix", s3.ListObjectsV2Input{StartAfter: aws.String("b/"), Delimiter: aws.String("/")},
			[]string{"d", "e+f g", "z"}, []string{"c/", "d/"}, 1},
		{"other delimiter", s3.ListObjectsV2Input{Delimiter: aws.String(".")}, []string{"b/1", "b/2", "b/c/3", "c/4", "d", "d/5", "e+f g", "z"}, []string{"a."}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Bucket = aws.String("listing")
			gotKeys, gotPrefixes, pages := listAllV2(t, c, tt.in)
			if diff := cmp.Diff(tt.keys, gotKeys); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.prefix, gotPrefixes); diff != "" {
				t.Errorf("common prefixes (-want +got):\n%s", diff)
			}
			if pages != tt.pages {
				t.Errorf("got %d pages, want %d", pages, tt.pages)
			}
		})
	}

	// encoding-type=url: the SDK decodes the keys back.
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing"), Prefix: aws.String("e"), EncodingType: types.EncodingTypeUrl})
	if err != nil || len(out.Contents) != 1 {
		t.Fatalf("encoding-type=url: %v, %v", out, err)
	}
	if got := aws.ToString(out.Contents[0].Key); got != "e+f g" && got != "e%2Bf+g" {
		t.Errorf("encoded key: got %q", got)
	}
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing"), EncodingType: "base64"})
	wantError(t, "bad encoding-type", err, "InvalidArgument", http.StatusBadRequest)
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("listing"), ContinuationToken: aws.String("!!!")})
	wantError(t, "bad continuation token", err, "InvalidArgument", http.StatusBadRequest)
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("no-such")})
	wantError(t, "missing bucket", err, "NoSuchBucket", http.StatusNotFound)

	// Version 1: marker and NextMarker.
	var v1 []string
	var marker *string
	for {
		out, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("listing"), MaxKeys: aws.Int32(3), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			v1 = append(v1, aws.ToString(o.Key))
			if o.Owner == nil {
				t.Errorf("ListObjects v1 entries carry their owner")
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		marker = out.Contents[len(out.Contents)-1].Key
	}
	if diff := cmp.Diff(keys, v1); diff != "" {
		t.Errorf("ListObjects v1 (-want +got):\n%s", diff)
	}
	d1, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("listing"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)})
	if err != nil || aws.ToString(d1.NextMarker) != "b/" {
		t.Errorf("v1 NextMarker with a delimiter: got %v, %v", d1.NextMarker, err)
	}
}

// TestListManyKeysUnderOnePrefix: a delimiter listing skips a whole
// "directory" at once.
func TestListManyKeysUnderOnePrefix(t *testing.T) {
	_, c := start(t)
	createBucket(t, c, "wide")
	for i := range 1500 {
		putObject(t, c, "wide", fmt.Sprintf("dir/%04d", i), "")
	}
	putObject(t, c, "wide", "file", "")
	keys, prefixes, pages := listAllV2(t, c, s3.ListObjectsV2Input{Bucket: aws.String("wide"), Delimiter: aws.String("/")})
	if !cmp.Equal(keys, []string{"file"}) || !cmp.Equal(prefixes, []string{"dir/"}) || pages != 1 {
		t.Errorf("got keys %v prefixes %v in %d pages", keys, prefixes, pages)
	}
	keys, _, pages = listAllV2(t, c, s3.ListObjectsV2Input{Bucket: aws.String("wide"), Prefix: aws.String("dir/")})
	if len(keys) != 1500 || pages != 2 || keys[1499] != "dir/1499" || !strings.HasPrefix(keys[0], "dir/0000") {
		t.Errorf("got %d keys in %d pages", len(keys), pages)
	}
}
