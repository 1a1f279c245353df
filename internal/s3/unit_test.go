package s3

import (
	"context"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"overcast"
	"overcast/internal/awsproto"
	"overcast/internal/blob"
	"overcast/internal/service/servicetest"
	"overcast/internal/store"
)

func TestValidBucketName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"abc", true}, {"my-bucket.example", true}, {"1234", true}, {strings.Repeat("a", 63), true},
		{"ab", false}, {strings.Repeat("a", 64), false}, {"MyBucket", false}, {"my_bucket", false},
		{"-abc", false}, {"abc-", false}, {".abc", false}, {"a..b", false}, {"192.168.1.1", false},
		{"xn--abc", false}, {"sthree-abc", false}, {"amzn-s3-demo-x", false}, {"abc-s3alias", false},
		{"abc--ol-s3", false}, {"abc.mrap", false}, {"abc--x-s3", false}, {"abc--table-s3", false},
		{"192.168.1.1a", true}, {"a b", false},
	}
	for _, tt := range tests {
		if got := validBucketName(tt.name); got != tt.want {
			t.Errorf("validBucketName(%q): got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestBucketPolicyAccess checks what S3 asks of a bucket policy: who the
// caller is, the resource and condition keys of each request, and what
// happens when no statement applies. The evaluation rules themselves are
// internal/policy's and tested there.
func TestBucketPolicyAccess(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[
		{"Sid":"Public","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/public/*"},
		{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:role/reader"]},"Action":["s3:Get*","s3:List*"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]},
		{"Sid":"CDN","Effect":"Allow","Principal":{"Service":"cloudfront.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*",
		 "Condition":{"StringEquals":{"AWS:SourceArn":"arn:aws:cloudfront::000000000000:distribution/E1"}}},
		{"Sid":"NoSecrets","Effect":"Deny","Principal":"*","NotAction":"s3:ListBucket","Resource":"arn:aws:s3:::b/secret/*"},
		{"Sid":"Prefix","Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"StringLike":{"s3:prefix":"public/*"}}},
		{"Sid":"Plain","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`
	if _, err := checkBucketPolicy(doc, "b"); err != nil {
		t.Fatal(err)
	}
	b := &bucketRecord{Name: "b", Owner: "000000000000", Policy: doc}
	caller := func(c overcast.Caller) context.Context { return overcast.WithCaller(context.Background(), c) }
	anon := caller(overcast.Caller{Kind: overcast.PrincipalAnonymous})
	owner := caller(overcast.RootCaller("000000000000", "us-east-1"))
	partner := caller(overcast.Caller{AccountID: "111122223333", Kind: overcast.PrincipalUser, ARN: "arn:aws:iam::111122223333:user/u"})
	role := caller(overcast.Caller{AccountID: "444455556666", Kind: overcast.PrincipalAssumedRole,
		ARN: "arn:aws:sts::444455556666:assumed-role/reader/s", RoleARN: "arn:aws:iam::444455556666:role/reader"})
	stranger := caller(overcast.RootCaller("999999999999", "us-east-1"))
	cdn := func(dist string) context.Context {
		return withServicePrincipal(context.Background(), "cloudfront.amazonaws.com", "arn:aws:cloudfront::000000000000:distribution/"+dist, "000000000000")
	}
	tests := []struct {
		name   string
		ctx    context.Context
		action string
		key    string
		extra  map[string]string
		want   bool
	}{
		{"anonymous public read", anon, "s3:GetObject", "public/x", nil, true},
		{"anonymous private read", anon, "s3:GetObject", "private/x", nil, false},
		{"anonymous write", anon, "s3:PutObject", "public/x", nil, false},
		{"anonymous lists the public prefix", anon, "s3:ListBucket", "", map[string]string{"s3:prefix": "public/"}, true},
		{"anonymous lists another prefix", anon, "s3:ListBucket", "", map[string]string{"s3:prefix": "private/"}, false},
		{"owner without a statement", owner, "s3:GetObject", "private/x", nil, true},
		{"owner denied", owner, "s3:GetObject", "secret/x", nil, false},
		{"owner denied plain HTTP writes", owner, "s3:PutObject", "x", nil, false},
		{"partner by account", partner, "s3:GetObjectVersion", "x", nil, true},
		{"partner lists", partner, "s3:ListBucket", "", nil, true},
		{"role session by role ARN", role, "s3:GetObject", "x", nil, true},
		{"stranger", stranger, "s3:GetObject", "x", nil, false},
		{"cdn right distribution", cdn("E1"), "s3:GetObject", "x", nil, true},
		{"cdn other distribution", cdn("E2"), "s3:GetObject", "x", nil, false},
		{"deny wins", partner, "s3:GetObject", "secret/x", nil, false},
		{"NotAction leaves listing", partner, "s3:ListBucket", "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := accessFor(tt.ctx, b).allows(b, tt.action, tt.key, tt.extra); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckBucketPolicy(t *testing.T) {
	tests := []struct {
		name, doc, want string // want: the MalformedPolicy message, "" for valid
	}{
		{"single statement object", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"s3:*","Resource":["arn:aws:s3:::b*"]}}`, ""},
		{"empty", ``, "Policies must be valid JSON and the first byte must be '{'"},
		{"array", `[]`, "Policies must be valid JSON and the first byte must be '{'"},
		{"broken", `{"Statement":`, "This policy contains invalid Json"},
		{"bad version", `{"Version":"2000-01-01","Statement":[]}`, "The policy must contain a valid version string"},
		{"no statement", `{"Version":"2012-10-17"}`, "Missing required field Statement"},
		{"statement empty", `{"Statement":[]}`, "Could not parse the policy: Statement is empty!"},
		{"bad effect", `{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"s3:*","Resource":"*"}]}`, "Invalid effect: Maybe"},
		{"bad principal", `{"Statement":[{"Effect":"Allow","Principal":"me","Action":"s3:*","Resource":"*"}]}`, "Invalid principal in policy"},
		{"bad principal id", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"s3:*","Resource":"*"}]}`, "Invalid principal in policy"},
		{"missing principal", `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, "Missing required field Principal"},
		{"no action", `{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"*"}]}`, "Missing required field Action"},
		{"non-s3 action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ec2:RunInstances","Resource":"*"}]}`, "Policy has invalid action"},
		{"no resource", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*"}]}`, "Missing required field Resource"},
		{"other bucket", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::elsewhere/*"}]}`, "Policy has invalid resource"},
		{"bad condition", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Maybe":{"a":"b"}}}]}`, "Policy has an invalid condition key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checkBucketPolicy(tt.doc, "b")
			if tt.want == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			e, ok := err.(*awsproto.Error)
			if !ok || e.Code != "MalformedPolicy" || e.Message != tt.want {
				t.Errorf("got %v, want MalformedPolicy %q", err, tt.want)
			}
		})
	}
}

func TestConditionPrecedence(t *testing.T) {
	mod := time.Date(2025, 6, 1, 12, 0, 0, 500, time.UTC)
	now := mod.Add(24 * time.Hour)
	before, after, same := mod.Add(-time.Hour), mod.Add(time.Hour), mod.Truncate(time.Second)
	future := now.Add(time.Hour)
	s := func(v string) *string { return &v }
	tm := func(v time.Time) *time.Time { return &v }
	tests := []struct {
		name string
		c    conditions
		read bool
		want string // error code, "" for success
	}{
		{"none", conditions{}, true, ""},
		{"If-Match hit", conditions{IfMatch: s(`"abc"`)}, true, ""},
		{"If-Match unquoted", conditions{IfMatch: s(`abc`)}, true, ""},
		{"If-Match list", conditions{IfMatch: s(`"x", "abc"`)}, true, ""},
		{"If-Match miss", conditions{IfMatch: s(`"x"`)}, true, "PreconditionFailed"},
		{"If-Match weak never matches", conditions{IfMatch: s(`W/"abc"`)}, true, "PreconditionFailed"},
		{"If-None-Match weak matches", conditions{IfNoneMatch: s(`W/"abc"`)}, true, "NotModified"},
		{"If-None-Match on a write", conditions{IfNoneMatch: s(`*`)}, false, "PreconditionFailed"},
		{"IUS same second", conditions{IfUnmodifiedSince: tm(same)}, true, ""},
		{"IUS before", conditions{IfUnmodifiedSince: tm(before)}, true, "PreconditionFailed"},
		{"IMS same second", conditions{IfModifiedSince: tm(same)}, true, "NotModified"},
		{"IMS before", conditions{IfModifiedSince: tm(before)}, true, ""},
		{"IMS after", conditions{IfModifiedSince: tm(after)}, true, "NotModified"},
		{"IMS in the future is ignored", conditions{IfModifiedSince: tm(future)}, true, ""},
		{"IMS ignored on writes", conditions{IfModifiedSince: tm(after)}, false, ""},
		{"If-Match true beats IUS false", conditions{IfMatch: s(`"abc"`), IfUnmodifiedSince: tm(before)}, true, ""},
		{"If-None-Match false beats IMS true", conditions{IfNoneMatch: s(`"abc"`), IfModifiedSince: tm(before)}, true, "NotModified"},
		{"If-None-Match true ignores IMS", conditions{IfNoneMatch: s(`"x"`), IfModifiedSince: tm(after)}, true, ""},
		{"412 beats 304", conditions{IfMatch: s(`"x"`), IfNoneMatch: s(`"abc"`)}, true, "PreconditionFailed"},
	}
	for _, tt := range tests {
		err := tt.c.evaluate("abc", mod, now, tt.read)
		got := ""
		if err != nil {
			got = err.(interface{ ErrorCode() string }).ErrorCode()
		}
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		h     string
		size  int64
		want  byteRange
		ok    bool
		error bool
	}{
		{"bytes=0-0", 10, byteRange{0, 1}, true, false},
		{"bytes=2-5", 10, byteRange{2, 4}, true, false},
		{"bytes=2-", 10, byteRange{2, 8}, true, false},
		{"bytes=-4", 10, byteRange{6, 4}, true, false},
		{"bytes=-40", 10, byteRange{0, 10}, true, false},
		{"bytes=5-50", 10, byteRange{5, 5}, true, false},
		{"bytes=10-", 10, byteRange{}, false, true},
		{"bytes=-0", 10, byteRange{}, false, true},
		{"bytes=0-", 0, byteRange{}, false, true},
		{"bytes=5-2", 10, byteRange{}, false, false},
		{"bytes=0-1,3-4", 10, byteRange{}, false, false},
		{"items=0-1", 10, byteRange{}, false, false},
		{"bytes=x-1", 10, byteRange{}, false, false},
	}
	for _, tt := range tests {
		got, ok, err := parseRange(tt.h, tt.size)
		if got != tt.want || ok != tt.ok || (err != nil) != tt.error {
			t.Errorf("parseRange(%q, %d): got %+v %v %v; want %+v %v error=%v", tt.h, tt.size, got, ok, err, tt.want, tt.ok, tt.error)
		}
	}
}

// TestCombineCRC: the CRC of a whole is computed from its parts'.
func TestCombineCRC(t *testing.T) {
	data := []byte(strings.Repeat("the quick brown fox jumps over the lazy dog ", 5000))
	cuts := []int{0, 1, 4096, 100_000, len(data) - 1, len(data)}
	for _, alg := range []string{"CRC32", "CRC32C", "CRC64NVME"} {
		full := newHash(alg)
		full.Write(data)
		want := base64.StdEncoding.EncodeToString(full.Sum(nil))
		for _, cut := range cuts {
			var parts []partChecksum
			for _, piece := range [][]byte{data[:cut], data[cut:]} {
				h := newHash(alg)
				h.Write(piece)
				parts = append(parts, partChecksum{value: base64.StdEncoding.EncodeToString(h.Sum(nil)), size: int64(len(piece))})
			}
			got, err := objectChecksum(alg, "FULL_OBJECT", parts)
			if err != nil || got.Value != want {
				t.Errorf("%s cut at %d: got %v %v, want %s", alg, cut, got, err, want)
			}
		}
	}
	// Sanity: the polynomials are the standard library's.
	if crc32.ChecksumIEEE([]byte("a")) != uint32(crcValue(func() []byte { h := newHash("CRC32"); h.Write([]byte("a")); return h.Sum(nil) }())) {
		t.Errorf("CRC32 mismatch")
	}
}

func TestMultipartETag(t *testing.T) {
	// Two parts whose MD5s are known.
	got := multipartETag([]string{"d41d8cd98f00b204e9800998ecf8427e", "0cc175b9c0f1b6a831c399e269772661"})
	if !strings.HasSuffix(got, "-2") || len(got) != 34 {
		t.Errorf("got %s", got)
	}
}

// newTestService runs the service over a real store and blob directory.
func newTestService(t testing.TB) (*Service, store.Store, blob.Store) {
	t.Helper()
	env := servicetest.Env(t)
	return New(env, nil), env.Store, env.Blobs
}

// TestListingPagination drives listLatest directly: every page size, with
// and without a delimiter, must list exactly what one big page lists.
func TestListingPagination(t *testing.T) {
	s, db, _ := newTestService(t)
	ctx := context.Background()
	keys := []string{"a", "a/", "a/b", "a/b/c", "a0", "b/1", "b/2", "b/3", "c", "c/", "c/x/y", "d!", "d/", "e"}
	err := db.Update(ctx, func(tx store.Tx) error {
		if _, err := store.PutJSON(tx, tableBucket, "bkt", bucketRecord{Name: "bkt"}, 0); err != nil {
			return err
		}
		for i, k := range keys {
			rec := objectRecord{VersionID: "null", Seq: uint64(i + 1), Size: 1, ETag: "e"}
			if _, err := store.PutJSON(tx, tableObject, objectKey("bkt", k, rec.Seq), rec, 0); err != nil {
				return err
			}
		}
		// A deleted key: its latest version is a delete marker.
		marker := objectRecord{VersionID: "v2", Seq: 1000, DeleteMarker: true}
		_, err := store.PutJSON(tx, tableObject, objectKey("bkt", "b/2", marker.Seq), marker, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = s
	list := func(prefix, delimiter, marker string, max int) (*listing, error) {
		var res *listing
		err := db.View(ctx, func(tx store.Tx) error {
			var err error
			res, err = listLatest(tx, "bkt", prefix, delimiter, marker, max)
			return err
		})
		return res, err
	}
	for _, prefix := range []string{"", "a", "a/", "b/", "c", "z"} {
		for _, delimiter := range []string{"", "/", "b"} {
			whole, err := list(prefix, delimiter, "", 1000)
			if err != nil {
				t.Fatal(err)
			}
			want := flatten(whole)
			for max := 1; max <= 4; max++ {
				var got []string
				marker := ""
				for pages := 0; ; pages++ {
					if pages > 50 {
						t.Fatalf("prefix %q delimiter %q max %d: no end", prefix, delimiter, max)
					}
					res, err := list(prefix, delimiter, marker, max)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, flatten(res)...)
					if !res.truncated {
						break
					}
					marker = res.last
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("prefix %q delimiter %q pages of %d (-want +got):\n%s", prefix, delimiter, max, diff)
				}
			}
		}
	}
	whole, _ := list("", "/", "", 1000)
	if diff := cmp.Diff([]string{"a", "a/", "a0", "b/", "c", "c/", "d!", "d/", "e"}, flatten(whole)); diff != "" {
		t.Errorf("delimiter listing (-want +got):\n%s", diff)
	}
	bs, _ := list("b/", "", "", 1000)
	if diff := cmp.Diff([]string{"b/1", "b/3"}, flatten(bs)); diff != "" {
		t.Errorf("a deleted key is not listed (-want +got):\n%s", diff)
	}
}

// flatten merges a page's keys and prefixes in listing order.
func flatten(l *listing) []string {
	var out []string
	i, j := 0, 0
	for i < len(l.objects) || j < len(l.prefixes) {
		if j == len(l.prefixes) || (i < len(l.objects) && l.objects[i].key < l.prefixes[j]) {
			out = append(out, l.objects[i].key)
			i++
		} else {
			out = append(out, l.prefixes[j])
			j++
		}
	}
	return out
}

// TestRecoverDeletesOrphans: blobs recorded as orphans (written but never
// referenced, or dereferenced) are deleted at start-up; others are kept.
func TestRecoverDeletesOrphans(t *testing.T) {
	s, db, blobs := newTestService(t)
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		w, _ := blobs.Create(ctx)
		fmt.Fprint(w, i)
		w.Commit(ctx)
		ids = append(ids, w.ID())
	}
	db.Update(ctx, func(tx store.Tx) error {
		tx.Put(tableOrphan, ids[0], nil, store.AnyVersion)
		tx.Put(tableOrphan, ids[1], nil, store.AnyVersion)
		tx.Put(tableOrphan, "0123456789abcdef0123456789abcdef", nil, store.AnyVersion) // already gone
		return nil
	})
	if err := s.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		_, err := blobs.Size(ctx, id)
		if gone := err != nil; gone != (i < 2) {
			t.Errorf("blob %d: gone=%v", i, gone)
		}
	}
	var n int
	db.View(ctx, func(tx store.Tx) error { n, _ = tx.Count(tableOrphan, ""); return nil })
	if n != 0 {
		t.Errorf("%d orphan entries left", n)
	}
}

// TestDeleteWhileReading: a GET streaming a blob finishes even when the
// object is deleted under it; the blob goes when the reader is done.
func TestDeleteWhileReading(t *testing.T) {
	s, _, blobs := newTestService(t)
	ctx := context.Background()
	w, _ := blobs.Create(ctx)
	w.Write([]byte(strings.Repeat("x", 100_000)))
	w.Commit(ctx)
	r, err := s.openSegments(ctx, []segment{{Blob: w.ID(), Size: 100_000}}, 0, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.deleteBlobs(ctx, []string{w.ID()}); err != nil {
		t.Fatal(err)
	}
	if _, err := blobs.Size(ctx, w.ID()); err != nil {
		t.Errorf("blob deleted while being read: %v", err)
	}
	buf := make([]byte, 200_000)
	n, _ := r.Read(buf)
	for n < 100_000 {
		m, err := r.Read(buf[n:])
		if err != nil {
			break
		}
		n += m
	}
	r.Close()
	if n != 100_000 {
		t.Errorf("read %d bytes, want 100000", n)
	}
	if _, err := blobs.Size(ctx, w.ID()); err == nil {
		t.Errorf("blob kept after the last reader closed")
	}
}
