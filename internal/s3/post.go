package s3

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"overcast"
	api "overcast/internal/api/s3"
	"overcast/internal/awsproto"
	"overcast/internal/sigv4"
)

// Browser-based uploads: POST /<bucket> with a multipart/form-data body
// whose fields carry the key, a base64 POST policy and its SigV4 signature
// (what the SDKs' PresignPostObject makes), then the file. The model has
// no such operation, so the request comes through ServeRaw; S3 verifies
// the policy signature itself, with the secret from KeyLookup.

// KeyLookup finds the secret and identity of an access key; found is false
// for keys nobody issued.
type KeyLookup func(ctx context.Context, accessKeyID string) (secret string, caller overcast.Caller, found bool, err error)

// isPostUpload reports whether r is a browser POST upload: POST /<bucket>
// with a multipart/form-data body and no subresource.
func isPostUpload(r *http.Request) (bucket string, ok bool) {
	if r.Method != http.MethodPost {
		return "", false
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" {
		return "", false
	}
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(segs) != 1 || segs[0] == "" || r.URL.RawQuery != "" {
		return "", false
	}
	return segs[0], true
}

// postForm is the fields of a POST upload before the file.
type postForm struct {
	fields map[string]string // lower-case names
	file   io.Reader
	name   string // the file's name, for ${filename}
}

func (f *postForm) get(name string) string { return f.fields[strings.ToLower(name)] }

const maxPostFields = 1 << 20

// readPostForm reads fields up to the file part, which it leaves to
// stream.
func readPostForm(r *http.Request) (*postForm, *multipart.Reader, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, errMalformedPOST("The body of your POST request is not well-formed multipart/form-data.")
	}
	f := &postForm{fields: map[string]string{}}
	size := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, nil, s3err(http.StatusBadRequest, "InvalidArgument", "POST requires exactly one file upload per request.",
				"ArgumentName", "file", "ArgumentValue", "0")
		}
		if err != nil {
			return nil, nil, errMalformedPOST("The body of your POST request is not well-formed multipart/form-data.")
		}
		name := strings.ToLower(p.FormName())
		if name == "file" {
			f.file, f.name = p, p.FileName()
			return f, mr, nil
		}
		b, err := io.ReadAll(io.LimitReader(p, int64(maxPostFields-size+1)))
		size += len(b)
		if err != nil || size > maxPostFields {
			return nil, nil, errMalformedPOST("Your POST request fields preceeding the upload file were too large.")
		}
		f.fields[name] = string(b)
	}
}

func errMalformedPOST(msg string) error {
	return s3err(http.StatusBadRequest, "MalformedPOSTRequest", msg)
}

// postPolicy is a decoded POST policy document.
type postPolicy struct {
	Expiration string `json:"expiration"`
	Conditions []any  `json:"conditions"`
}

// checkPostPolicy verifies the policy's signature and then its conditions
// against the fields, and returns who signed it.
func (s *Service) checkPostPolicy(ctx context.Context, f *postForm, bucket string) (overcast.Caller, *postPolicy, error) {
	encoded := f.get("policy")
	if encoded == "" {
		// Without a policy the upload is anonymous: the bucket policy decides.
		return anonymous, nil, nil
	}
	if alg := f.get("x-amz-algorithm"); alg != "AWS4-HMAC-SHA256" {
		return overcast.Caller{}, nil, errInvalidArgument("Only AWS4-HMAC-SHA256 POST policies are supported.", "x-amz-algorithm", alg)
	}
	cred := strings.Split(f.get("x-amz-credential"), "/")
	if len(cred) != 5 || cred[3] != "s3" || cred[4] != "aws4_request" {
		return overcast.Caller{}, nil, errInvalidArgument("Invalid credential in the POST form.", "x-amz-credential", f.get("x-amz-credential"))
	}
	date, err := time.Parse("20060102", cred[1])
	if err != nil {
		return overcast.Caller{}, nil, errInvalidArgument("Invalid credential date.", "x-amz-credential", f.get("x-amz-credential"))
	}
	keyID, region := cred[0], cred[2]
	caller := overcast.RootCaller(overcast.DefaultAccountID, region)
	if id, ok := overcast.AccountFromAccessKey(keyID); ok {
		caller = overcast.RootCaller(id, region)
	}
	if s.keys != nil {
		secret, c, found, err := s.keys(ctx, keyID)
		if err != nil {
			return overcast.Caller{}, nil, err
		}
		switch {
		case found:
			mac := hmac.New(sha256.New, sigv4.DeriveSigningKey(secret, date, region, "s3"))
			mac.Write([]byte(encoded))
			want := hex.EncodeToString(mac.Sum(nil))
			if !hmac.Equal([]byte(want), []byte(f.get("x-amz-signature"))) {
				return overcast.Caller{}, nil, s3err(http.StatusForbidden, "SignatureDoesNotMatch",
					"The request signature we calculated does not match the signature you provided. Check your key and signing method.")
			}
			caller = c
			caller.Region = region
		case s.strict:
			return overcast.Caller{}, nil, s3err(http.StatusForbidden, "InvalidAccessKeyId",
				"The AWS Access Key Id you provided does not exist in our records.")
		}
	}
	caller.AccessKeyID = keyID
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return overcast.Caller{}, nil, errInvalidPolicy("Invalid Policy: Invalid 'Policy' base64 encoding.")
	}
	var p postPolicy
	if err := json.Unmarshal(raw, &p); err != nil {
		return overcast.Caller{}, nil, errInvalidPolicy("Invalid Policy: Invalid JSON.")
	}
	exp, err := time.Parse(time.RFC3339Nano, p.Expiration)
	if err != nil {
		return overcast.Caller{}, nil, errInvalidPolicy("Invalid Policy: Invalid 'expiration' value: '" + p.Expiration + "'")
	}
	if s.Now().After(exp) {
		return overcast.Caller{}, nil, s3err(http.StatusForbidden, "AccessDenied", "Invalid according to Policy: Policy expired.")
	}
	return caller, &p, nil
}

func errInvalidPolicy(msg string) error {
	return s3err(http.StatusBadRequest, "InvalidPolicyDocument", msg)
}

// checkConditions applies the policy's conditions to the form (with the
// bucket and the final key); content-length-range is returned for the
// upload to enforce.
func (p *postPolicy) checkConditions(f *postForm, bucket, key string) (minLen, maxLen int64, err error) {
	maxLen = maxPutSize
	value := func(field string) string {
		field = strings.ToLower(strings.TrimPrefix(field, "$"))
		switch field {
		case "bucket":
			return bucket
		case "key":
			return key
		}
		return f.get(field)
	}
	fail := func(c any) error {
		b, _ := json.Marshal(c)
		return s3err(http.StatusForbidden, "AccessDenied", "Invalid according to Policy: Policy Condition failed: "+string(b))
	}
	for _, c := range p.Conditions {
		switch c := c.(type) {
		case map[string]any:
			for k, v := range c {
				if fmt.Sprint(v) != value(k) {
					return 0, 0, fail(c)
				}
			}
		case []any:
			if len(c) != 3 {
				return 0, 0, errInvalidPolicy("Invalid Policy: Invalid Condition.")
			}
			op, _ := c[0].(string)
			switch strings.ToLower(op) {
			case "eq":
				if fmt.Sprint(c[2]) != value(fmt.Sprint(c[1])) {
					return 0, 0, fail(c)
				}
			case "starts-with":
				if !strings.HasPrefix(value(fmt.Sprint(c[1])), fmt.Sprint(c[2])) {
					return 0, 0, fail(c)
				}
			case "content-length-range":
				lo, err1 := strconv.ParseInt(fmt.Sprint(c[1]), 10, 64)
				hi, err2 := strconv.ParseInt(fmt.Sprint(c[2]), 10, 64)
				if err1 != nil || err2 != nil {
					return 0, 0, errInvalidPolicy("Invalid Policy: Invalid content-length-range.")
				}
				minLen, maxLen = lo, hi
			default:
				return 0, 0, errInvalidPolicy("Invalid Policy: Invalid Condition operator: " + op)
			}
		}
	}
	return minLen, maxLen, nil
}

// postObject stores the file of a POST upload.
func (s *Service) postObject(w http.ResponseWriter, r *http.Request, bucket string) error {
	ctx := r.Context()
	f, _, err := readPostForm(r)
	if err != nil {
		return err
	}
	caller, policy, err := s.checkPostPolicy(ctx, f, bucket)
	if err != nil {
		return err
	}
	ctx = overcast.WithCaller(ctx, caller)
	key := strings.ReplaceAll(f.get("key"), "${filename}", f.name)
	if key == "" {
		return s3err(http.StatusBadRequest, "InvalidArgument", "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.",
			"ArgumentName", "key", "ArgumentValue", "")
	}
	if err := checkKey(key); err != nil {
		return err
	}
	// Authorization and CloudTrail see the upload as PostObject, a
	// PutObject of the key: what AWS authorizes it as and records.
	in := &api.PutObjectRequest{Bucket: &bucket, Key: &key, ACL: nonEmpty(f.get("acl"))}
	_, err = awsproto.Intercept(ctx, &awsproto.Call{Service: api.Service, Operation: &postObjectOperation, Input: in},
		func(ctx context.Context) (any, error) { return nil, s.storePost(ctx, w, f, policy, bucket, key) })
	return err
}

// postObjectOperation is the browser POST upload as an operation, for the
// interceptors; its input is a PutObjectRequest of the bucket and key.
var postObjectOperation = awsproto.Operation{Name: "PostObject", HTTPMethod: http.MethodPost, RequestURI: "/{Bucket}",
	NewInput: func() any { return new(api.PutObjectRequest) }}

// RawOperations are the operations S3 serves outside its model, which its
// authorization table has rules for.
func (s *Service) RawOperations() []awsproto.Operation {
	return []awsproto.Operation{postObjectOperation}
}

// storePost stores the file of a POST upload that may be made.
func (s *Service) storePost(ctx context.Context, w http.ResponseWriter, f *postForm, policy *postPolicy, bucket, key string) error {
	var err error
	minLen, maxLen := int64(0), int64(maxPutSize)
	if policy != nil {
		if minLen, maxLen, err = policy.checkConditions(f, bucket, key); err != nil {
			return err
		}
	}
	b, err := s.peekPut(ctx, bucket, key, nil)
	if err != nil {
		return err
	}
	var tags []tag
	if t := f.get("tagging"); t != "" {
		var doc struct {
			TagSet []struct{ Key, Value string } `xml:"TagSet>Tag"`
		}
		if err := xml.Unmarshal([]byte(t), &doc); err != nil {
			return errMalformedXML()
		}
		for _, tg := range doc.TagSet {
			tags = append(tags, tag{Key: tg.Key, Value: tg.Value})
		}
		if err := validateTags(tags, 10); err != nil {
			return err
		}
	}
	class, err := storageClass(nonEmpty(f.get("x-amz-storage-class")))
	if err != nil {
		return err
	}
	alg, want, err := postChecksum(f)
	if err != nil {
		return err
	}
	data, err := s.ingest(ctx, f.file, ingestOptions{length: -1, sentAlg: alg, sentValue: want, keepAlg: storedAlg(alg)})
	if err != nil {
		return err
	}
	if data.size < minLen || data.size > maxLen {
		data.abort()
		code, msg := "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
		if data.size < minLen {
			code, msg = "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size"
		}
		return s3err(http.StatusBadRequest, code, msg, "ProposedSize", strconv.FormatInt(data.size, 10),
			"MinSizeAllowed", strconv.FormatInt(minLen, 10), "MaxSizeAllowed", strconv.FormatInt(maxLen, 10))
	}
	meta := map[string]string{}
	for k, v := range f.fields {
		if m, ok := strings.CutPrefix(k, "x-amz-meta-"); ok {
			meta[m] = v
		}
	}
	var expires *time.Time
	if t, err := http.ParseTime(f.get("expires")); err == nil {
		expires = &t
	}
	rec := &objectRecord{Size: data.size, ETag: data.etag(), Modified: s.Now().UTC(), Owner: b.Owner,
		Headers: contentHeaders{Type: f.get("content-type"), Encoding: f.get("content-encoding"), Disposition: f.get("content-disposition"),
			Language: f.get("content-language"), CacheControl: f.get("cache-control"), Expires: expires},
		Meta: meta, Tags: tags, Checksum: data.checksum, StorageClass: class,
		Redirect: f.get("x-amz-website-redirect-location")}
	if len(rec.Meta) == 0 {
		rec.Meta = nil
	}
	if b, err = s.storeBody(ctx, bucket, key, rec, data, "ObjectCreated:Post", nil, nil, nil); err != nil {
		return err
	}
	h := w.Header()
	h.Set("ETag", rec.etag())
	location := fmt.Sprintf("http://%s.s3.localhost/%s", bucket, escapePath(key))
	h.Set("Location", location)
	if b.versioned() {
		h.Set("x-amz-version-id", rec.VersionID)
	}
	if redirect := f.get("success_action_redirect"); redirect != "" {
		if u, err := url.Parse(redirect); err == nil && u.Scheme != "" {
			q := u.Query()
			q.Set("bucket", bucket)
			q.Set("key", key)
			q.Set("etag", rec.etag())
			u.RawQuery = q.Encode()
			h.Set("Location", u.String())
			w.WriteHeader(http.StatusSeeOther)
			return nil
		}
	}
	switch f.get("success_action_status") {
	case "200":
		w.WriteHeader(http.StatusOK)
	case "201":
		body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<PostResponse><Location>%s</Location><Bucket>%s</Bucket><Key>%s</Key><ETag>%s</ETag></PostResponse>`,
			xmlEscape(location), xmlEscape(bucket), xmlEscape(key), xmlEscape(rec.etag()))
		h.Set("Content-Type", "application/xml")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, body)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// postChecksum reads the x-amz-checksum-* fields of a POST form.
func postChecksum(f *postForm) (alg, want string, err error) {
	var h checksumHeaders
	for i, a := range checksumAlgs {
		if v, ok := f.fields["x-amz-checksum-"+strings.ToLower(a)]; ok {
			h[i] = &v
		}
	}
	var sdk *string
	if v, ok := f.fields["x-amz-checksum-algorithm"]; ok {
		sdk = &v
	}
	return h.requested(sdk)
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
