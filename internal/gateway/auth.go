package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"overcast"
	"overcast/internal/awsproto"
	"overcast/internal/sigv4"
)

// authenticator checks who signed a request.
type authenticator struct {
	keys     KeyStore
	strict   bool
	now      func() time.Time
	verifier *sigv4.Verifier
}

func newAuthenticator(keys KeyStore, strict bool, now func() time.Time) *authenticator {
	v := sigv4.NewVerifier()
	v.Now = now
	return &authenticator{keys: keys, strict: strict, now: now, verifier: v}
}

// authenticate verifies the signature of r (when there is one) by the
// rules of api and returns r carrying its caller, with a body the service
// can read: buffered, or wrapped in a reader that checks the signed hash
// or decodes aws-chunked.
//
// resource is what a virtual-hosted request's host names (its bucket),
// which a SigV2 signature covers as part of the path.
func (a *authenticator) authenticate(r *http.Request, auth *sigv4.Auth, api *api, proto, resource string) (*http.Request, error) {
	if auth == nil {
		if api.PresignedV2 && isPresignedV2(r) {
			return a.authenticateV2(r, resource)
		}
		// An API with anonymous callers lets unsigned requests through even
		// under --strict: its own policies (S3's bucket policies) decide
		// what they may do.
		if api.Anonymous {
			caller := overcast.Caller{AccountID: overcast.DefaultAccountID, Region: overcast.DefaultRegion,
				Kind: overcast.PrincipalAnonymous, ARN: "*"}
			return r.WithContext(overcast.WithCaller(r.Context(), caller)), nil
		}
		if a.strict && !api.h.UnsignedOperation(r) {
			return r, failure(proto, missingAuth, "")
		}
		caller := overcast.RootCaller(overcast.DefaultAccountID, overcast.DefaultRegion)
		return r.WithContext(overcast.WithCaller(r.Context(), caller)), nil
	}

	// What the request says of its body is checked whoever signed it:
	// a payload hash that is no hash is refused before anything else.
	if !sigv4.ValidPayloadHash(auth.PayloadHash) {
		return r, invalidPayloadHash(proto, auth.PayloadHash)
	}
	creds, known, err := a.credentials(r.Context(), auth.AccessKeyID, auth.Region, proto)
	if err != nil {
		return r, err
	}
	if known {
		switch {
		case creds.SessionToken != "" && auth.SessionToken != creds.SessionToken:
			return r, failure(proto, badToken, "")
		case !creds.Expires.IsZero() && !a.now().Before(creds.Expires):
			return r, failure(proto, expiredToken, "")
		}
	}

	payloadHash := auth.PayloadHash
	if payloadHash == "" {
		body, err := readBounded(r)
		if err != nil {
			return r, err
		}
		r = withBody(r, body)
		payloadHash = sigv4.HashHex(body)
	}
	if known {
		if err := a.verifier.Verify(r, auth, creds.SecretAccessKey, payloadHash); err != nil {
			return r, authError(err, proto)
		}
		if rec, ok := a.keys.(UsageRecorder); ok {
			// Last-used bookkeeping must never fail the request it describes.
			_ = rec.RecordAccessKeyUse(r.Context(), auth.AccessKeyID, auth.Service, auth.Region)
		}
	}
	if err := wrapBody(r, auth, creds.SecretAccessKey, known); err != nil {
		return r, authError(err, proto)
	}

	caller := creds.Caller
	caller.Region = auth.Region
	caller.AccessKeyID = auth.AccessKeyID
	if caller.AccountID == "" {
		caller.AccountID = overcast.DefaultAccountID
	}
	return r.WithContext(overcast.WithCaller(r.Context(), caller)), nil
}

// credentials looks up the access key a request is signed with; known says
// whether it exists, so that its signature can be checked. An inactive key
// is refused as unknown. An unknown one is refused under --strict, and
// otherwise stands for the root of the account a 12-digit key names (or of
// the default account), in region.
func (a *authenticator) credentials(ctx context.Context, keyID, region, proto string) (creds overcast.Credentials, known bool, err error) {
	if a.keys != nil {
		c, err := a.keys.LookupAccessKey(ctx, keyID)
		switch {
		case err == nil && c.Inactive:
			return creds, false, failure(proto, unknownKey, "")
		case err == nil:
			return c, true, nil
		case !errors.Is(err, overcast.ErrUnknownAccessKey):
			return creds, false, err
		}
	}
	if a.strict {
		return creds, false, failure(proto, unknownKey, "")
	}
	account, ok := overcast.AccountFromAccessKey(keyID)
	if !ok {
		account = overcast.DefaultAccountID
	}
	creds.Caller = overcast.RootCaller(account, region)
	return creds, false, nil
}

// readBounded buffers a body that has no declared hash (every API but S3's
// uploads), to hash it for the signature.
func readBounded(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, awsproto.MaxBodySize+1))
	if err != nil {
		return nil, &awsproto.Error{Code: "IncompleteBody", Status: http.StatusBadRequest, Message: "The request body could not be read."}
	}
	if len(body) > awsproto.MaxBodySize {
		return nil, awsproto.ErrBodyTooLarge
	}
	return body, nil
}

// wrapBody makes a streamed body check what its signature promised: the hex
// SHA-256 it declared, or the aws-chunked signatures and checksums. The
// hash, the framing and the trailing checksums are checked whatever the
// key; only the chunk signatures need its secret (verify). Errors surface
// from Read as S3 errors, since S3 is the API that streams.
func wrapBody(r *http.Request, auth *sigv4.Auth, secret string, verify bool) error {
	switch {
	case auth.PayloadHash == "" || auth.PayloadHash == sigv4.UnsignedPayload:
		return nil
	case strings.HasPrefix(auth.PayloadHash, "STREAMING-"):
		cr, err := newChunkedReader(r, auth, secret, verify)
		if err != nil {
			return err
		}
		r.Body = &apiErrorBody{r: cr, c: r.Body}
		if n := r.Header.Get("X-Amz-Decoded-Content-Length"); n != "" {
			var size int64
			if _, err := fmt.Sscan(n, &size); err == nil {
				r.ContentLength = size
			}
		}
	case len(auth.PayloadHash) == 64 && r.ContentLength == 0:
		// No operation reads an empty body, so its hash is checked now.
		if _, err := io.ReadAll(sigv4.NewHashCheckingReader(http.NoBody, auth.PayloadHash)); err != nil {
			return err
		}
	case len(auth.PayloadHash) == 64:
		r.Body = &apiErrorBody{r: sigv4.NewHashCheckingReader(r.Body, auth.PayloadHash), c: r.Body}
	}
	return nil
}

// newChunkedReader decodes aws-chunked; without the secret (an unknown key
// accepted outside --strict) it decodes without checking signatures.
func newChunkedReader(r *http.Request, auth *sigv4.Auth, secret string, verify bool) (io.Reader, error) {
	if verify {
		return sigv4.NewChunkedRequestReader(r, auth, secret)
	}
	return sigv4.NewUnverifiedChunkedRequestReader(r)
}

// apiErrorBody turns the sigv4 errors a streamed body reports into the S3
// errors a client expects when its upload is refused.
type apiErrorBody struct {
	r io.Reader
	c io.Closer
}

func (b *apiErrorBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		var se *sigv4.Error
		if errors.As(err, &se) {
			err = authError(se, "rest-xml")
		}
	}
	return n, err
}

func (b *apiErrorBody) Close() error { return b.c.Close() }

// failure kinds the gateway itself decides.
type failureKind int

const (
	missingAuth failureKind = iota
	unknownKey
	badToken
	expiredToken
	badPayloadHash
)

// invalidPayloadHash refuses an x-amz-content-sha256 that is no SHA-256
// and none of the literals, the way S3 does: InvalidArgument naming the
// header and its value.
func invalidPayloadHash(proto, value string) *awsproto.Error {
	e := failure(proto, badPayloadHash, "")
	if family(proto) == "rest-xml" {
		e.Fields = []awsproto.Field{{Name: "ArgumentName", Value: "x-amz-content-sha256"}, {Name: "ArgumentValue", Value: value}}
	}
	return e
}

// msgBadPayloadHash is S3's text for an invalid x-amz-content-sha256.
const msgBadPayloadHash = "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, " +
	"STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, " +
	"STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value."

// failure returns the error each protocol family gives for k.
func failure(proto string, k failureKind, msg string) *awsproto.Error {
	family := family(proto)
	type code struct {
		code   string
		status int
		msg    string
	}
	// Outside S3 an unknown key and a malformed session token are the same
	// invalid security token.
	invalidToken := func(restXML code) map[string]code {
		return map[string]code{
			"query":    {"InvalidClientTokenId", 403, "The security token included in the request is invalid."},
			"json":     {"UnrecognizedClientException", 403, "The security token included in the request is invalid."},
			"rest-xml": restXML,
		}
	}
	table := map[failureKind]map[string]code{
		missingAuth: {
			"query":    {"MissingAuthenticationToken", 403, "Request is missing Authentication Token"},
			"json":     {"MissingAuthenticationTokenException", 403, "Missing Authentication Token"},
			"rest-xml": {"AccessDenied", 403, "Access Denied"},
		},
		unknownKey: invalidToken(code{"InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."}),
		badToken:   invalidToken(code{"InvalidToken", 400, "The provided token is malformed or otherwise invalid."}),
		expiredToken: {
			"query":    {"ExpiredToken", 403, "The security token included in the request is expired"},
			"json":     {"ExpiredTokenException", 403, "The security token included in the request is expired"},
			"rest-xml": {"ExpiredToken", 400, "The provided token has expired."},
		},
		badPayloadHash: {
			"query":    {"IncompleteSignature", 400, msgBadPayloadHash},
			"json":     {"IncompleteSignatureException", 400, msgBadPayloadHash},
			"rest-xml": {"InvalidArgument", 400, msgBadPayloadHash},
		},
	}
	c := table[k][family]
	if msg == "" {
		msg = c.msg
	}
	return &awsproto.Error{Code: c.code, Status: c.status, Message: msg}
}

// family groups protocols by the error codes their services use.
func family(proto string) string {
	switch proto {
	case "json", "rest-json":
		return "json"
	case "rest-xml":
		return "rest-xml"
	}
	return "query"
}

// signatureMismatch is how the APIs other than S3 word a wrong signature
// (S3's text is sigv4's own: "... Check your key and signing method.").
const signatureMismatch = "The request signature we calculated does not match the signature you provided. " +
	"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// authError maps a sigv4 failure to the error each protocol family gives.
func authError(err error, proto string) awsproto.APIError {
	var se *sigv4.Error
	if !errors.As(err, &se) {
		if e, ok := awsproto.AsAPIError(err); ok {
			return e
		}
		return &awsproto.Error{Code: "IncompleteSignature", Status: 400, Message: err.Error()}
	}
	fam := family(proto)
	pick := func(query, json, restXML string) string {
		switch fam {
		case "json":
			return json
		case "rest-xml":
			return restXML
		}
		return query
	}
	switch se.Kind {
	case sigv4.KindIncomplete:
		return &awsproto.Error{Code: pick("IncompleteSignature", "IncompleteSignatureException", "AuthorizationHeaderMalformed"), Status: 400, Message: se.Message}
	case sigv4.KindSignatureMismatch, sigv4.KindChunkSignatureMismatch:
		// S3 words it shortly, as sigv4 does; every other API the longer way.
		msg := pick(signatureMismatch, signatureMismatch, se.Message)
		return &awsproto.Error{Code: pick("SignatureDoesNotMatch", "InvalidSignatureException", "SignatureDoesNotMatch"), Status: 403, Message: msg}
	case sigv4.KindExpired:
		return &awsproto.Error{Code: pick("SignatureDoesNotMatch", "InvalidSignatureException", "AccessDenied"), Status: 403, Message: se.Message}
	case sigv4.KindSkewed:
		return &awsproto.Error{Code: pick("SignatureDoesNotMatch", "InvalidSignatureException", "RequestTimeTooSkewed"), Status: 403, Message: se.Message}
	case sigv4.KindContentSHA256Mismatch:
		return &awsproto.Error{Code: "XAmzContentSHA256Mismatch", Status: 400, Message: se.Message}
	case sigv4.KindChecksumMismatch:
		return &awsproto.Error{Code: "BadDigest", Status: 400, Message: se.Message}
	case sigv4.KindMalformedChunk:
		return &awsproto.Error{Code: "IncompleteBody", Status: 400, Message: se.Message}
	}
	return &awsproto.Error{Code: pick("IncompleteSignature", "IncompleteSignatureException", "AccessDenied"), Status: 403, Message: se.Message}
}
