package s3_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	s3svc "overcast/internal/s3"
)

// postForm sends a browser-style multipart POST upload.
func postForm(t *testing.T, url string, fields map[string]string, file string) (int, http.Header, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "upload.txt")
	io.WriteString(fw, file)
	mw.Close()
	return rawRequest(t, "POST", url, body.Bytes(), http.Header{"Content-Type": {mw.FormDataContentType()}})
}

// TestPostObject: the SDK's presigned POST, as an HTML form would send it.
func TestPostObject(t *testing.T) {
	srv, c := start(t)
	createBucket(t, c, "forms")
	log := subscribe(t, srv.Main.Bus(), "post")
	signer := newClient(srv, signedBy(userKey(t, srv, "poster")))
	post, err := s3.NewPresignClient(signer).PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String("forms"), Key: aws.String("uploads/${filename}")},
		func(o *s3.PresignPostOptions) {
			o.Expires = time.Minute
			o.Conditions = []any{[]any{"starts-with", "$key", "uploads/"}, []any{"content-length-range", 1, 100}}
		})
	if err != nil {
		t.Fatal(err)
	}
	fields := post.Values
	fields["success_action_status"] = "201"
	fields["Content-Type"] = "text/plain"
	status, h, body := postForm(t, post.URL, fields, "from a form")
	if status != 201 || !strings.Contains(body, "<Key>uploads/upload.txt</Key>") || h.Get("ETag") == "" {
		t.Fatalf("POST upload: got %d %s", status, body)
	}
	if got := getObject(t, c, "forms", "uploads/upload.txt"); got != "from a form" {
		t.Errorf("uploaded object: %q", got)
	}
	evs := log.wait(t, 1)
	var d s3svc.EventDetail
	json.Unmarshal(evs[0].Detail, &d)
	if evs[0].Type != "ObjectCreated:Post" || d.Records[0].EventName != "ObjectCreated:Post" {
		t.Errorf("event: %s", evs[0].Type)
	}

	// The policy's conditions hold.
	tooBig := strings.Repeat("x", 101)
	if status, _, body := postForm(t, post.URL, post.Values, tooBig); status != 400 || !strings.Contains(body, "EntityTooLarge") {
		t.Errorf("over content-length-range: got %d %s", status, body)
	}
	bad := map[string]string{}
	for k, v := range post.Values {
		bad[k] = v
	}
	bad["key"] = "elsewhere/x"
	if status, _, body := postForm(t, post.URL, bad, "x"); status != 403 || !strings.Contains(body, "AccessDenied") {
		t.Errorf("key outside starts-with: got %d %s", status, body)
	}
	bad["key"] = post.Values["key"]
	for k := range bad {
		if strings.EqualFold(k, "x-amz-signature") {
			bad[k] = strings.Repeat("0", 64)
		}
	}
	if status, _, body := postForm(t, post.URL, bad, "x"); status != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Errorf("bad signature: got %d %s", status, body)
	}
	// Without a policy the upload is anonymous: refused by default.
	if status, _, _ := postForm(t, srv.URL+"/forms", map[string]string{"key": "anon"}, "x"); status != 403 {
		t.Errorf("anonymous POST: got %d, want 403", status)
	}
}
