package gateway

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"overcast"
	"overcast/internal/awsproto"
)

// S3 query-string authentication, signature version 2: URLs carrying
// AWSAccessKeyId, Expires and Signature. aws CLI v1's `s3 presign` still
// makes them, and S3 still accepts them, so they authenticate here too.

func isPresignedV2(r *http.Request) bool {
	q := r.URL.Query()
	return q.Has("AWSAccessKeyId") && q.Has("Signature") && q.Has("Expires")
}

// s3Subresources are the query parameters a V2 signature covers.
var s3Subresources = map[string]bool{
	"acl": true, "cors": true, "delete": true, "lifecycle": true, "location": true, "logging": true,
	"notification": true, "partNumber": true, "policy": true, "requestPayment": true, "restore": true,
	"tagging": true, "torrent": true, "uploadId": true, "uploads": true, "versionId": true, "versioning": true,
	"versions": true, "website": true, "response-cache-control": true, "response-content-disposition": true,
	"response-content-encoding": true, "response-content-language": true, "response-content-type": true,
	"response-expires": true,
}

// authenticateV2 verifies a V2 presigned request and returns it carrying
// its caller.
func (a *authenticator) authenticateV2(r *http.Request, resource string) (*http.Request, error) {
	q := r.URL.Query()
	keyID := q.Get("AWSAccessKeyId")
	expires, err := strconv.ParseInt(q.Get("Expires"), 10, 64)
	if err != nil {
		return r, &awsproto.Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: "Invalid date (should be seconds since epoch): " + q.Get("Expires")}
	}
	if a.now().Unix() > expires {
		return r, &awsproto.Error{Code: "AccessDenied", Status: http.StatusForbidden, Message: "Request has expired"}
	}
	creds, known, err := a.credentials(r.Context(), keyID, overcast.DefaultRegion, "rest-xml")
	if err != nil {
		return r, err
	}
	if known {
		sts := stringToSignV2(r, q, resource)
		mac := hmac.New(sha1.New, []byte(creds.SecretAccessKey))
		mac.Write([]byte(sts))
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if subtle.ConstantTimeCompare([]byte(want), []byte(q.Get("Signature"))) != 1 {
			return r, &awsproto.Error{Code: "SignatureDoesNotMatch", Status: http.StatusForbidden,
				Message: "The request signature we calculated does not match the signature you provided. Check your key and signing method."}
		}
	}
	caller := creds.Caller
	caller.AccessKeyID = keyID
	if caller.Region == "" {
		caller.Region = overcast.DefaultRegion
	}
	if caller.AccountID == "" {
		caller.AccountID = overcast.DefaultAccountID
	}
	return r.WithContext(overcast.WithCaller(r.Context(), caller)), nil
}

// stringToSignV2 is S3's V2 string to sign for query authentication.
//
// resource is the bucket a virtual-hosted request names in its host: the
// signature covers it as the first part of the path.
func stringToSignV2(r *http.Request, q url.Values, resource string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(r.Header.Get("Content-MD5") + "\n")
	b.WriteString(r.Header.Get("Content-Type") + "\n")
	b.WriteString(q.Get("Expires") + "\n")
	var amz []string
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-") {
			amz = append(amz, lk)
		}
	}
	sort.Strings(amz)
	for _, k := range amz {
		b.WriteString(k + ":" + strings.Join(r.Header.Values(k), ",") + "\n")
	}
	path := r.URL.EscapedPath()
	if strings.HasPrefix(r.RequestURI, "/") {
		path, _, _ = strings.Cut(r.RequestURI, "?")
	}
	if resource != "" {
		path = "/" + resource + path
	}
	b.WriteString(path)
	var subs []string
	for k := range q {
		if s3Subresources[k] {
			subs = append(subs, k)
		}
	}
	sort.Strings(subs)
	for i, k := range subs {
		if i == 0 {
			b.WriteByte('?')
		} else {
			b.WriteByte('&')
		}
		b.WriteString(k)
		if v := q.Get(k); v != "" {
			b.WriteString("=" + v)
		}
	}
	return b.String()
}
