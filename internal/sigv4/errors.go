package sigv4

import (
	"errors"
	"strconv"
)

// Kind classifies a verification failure. The gateway maps (Kind, protocol)
// to the error code and status each AWS service family uses, so the kinds
// follow AWS's distinctions rather than ours.
type Kind int

const (
	// KindMissing: the request carries no SigV4 at all. Parse reports it as
	// ErrNoAuth, because an unsigned request is not malformed.
	KindMissing Kind = iota
	// KindIncomplete: malformed or missing Authorization components, a bad
	// credential scope, an unsupported algorithm or an unusable X-Amz-Date
	// (AWS: IncompleteSignature, AuthorizationHeaderMalformed,
	// AuthorizationQueryParametersError).
	KindIncomplete
	// KindSignatureMismatch: the signature differs (AWS: SignatureDoesNotMatch).
	KindSignatureMismatch
	// KindExpired: a presigned URL used after X-Amz-Date+X-Amz-Expires
	// (S3: AccessDenied "Request has expired").
	KindExpired
	// KindSkewed: the request date is too far from the server's clock
	// (S3: RequestTimeTooSkewed; query protocol: SignatureDoesNotMatch
	// "Signature expired: ...").
	KindSkewed
	// KindContentSHA256Mismatch: the body does not hash to x-amz-content-sha256
	// (S3: XAmzContentSHA256Mismatch).
	KindContentSHA256Mismatch
	// KindChunkSignatureMismatch: an aws-chunked chunk or trailer signature is
	// wrong (S3: SignatureDoesNotMatch).
	KindChunkSignatureMismatch
	// KindChecksumMismatch: a trailing x-amz-checksum-* value differs from the
	// decoded payload (S3: BadDigest, InvalidRequest).
	KindChecksumMismatch
	// KindMalformedChunk: the aws-chunked framing is broken (S3: IncompleteBody,
	// InvalidRequest).
	KindMalformedChunk
)

var kindNames = [...]string{
	KindMissing:                "Missing",
	KindIncomplete:             "Incomplete",
	KindSignatureMismatch:      "SignatureMismatch",
	KindExpired:                "Expired",
	KindSkewed:                 "Skewed",
	KindContentSHA256Mismatch:  "ContentSHA256Mismatch",
	KindChunkSignatureMismatch: "ChunkSignatureMismatch",
	KindChecksumMismatch:       "ChecksumMismatch",
	KindMalformedChunk:         "MalformedChunk",
}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is a verification failure. Message is AWS-like text that the gateway
// may send to the client as is; it never contains the secret.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return "sigv4: " + e.Kind.String() + ": " + e.Message }

// ErrNoAuth is returned by Parse for a request that carries no SigV4 at all.
// The gateway decides whether anonymous access is allowed.
var ErrNoAuth = errors.New("sigv4: request is not signed")

func newError(k Kind, msg string) *Error { return &Error{Kind: k, Message: msg} }

// Messages AWS sends for the common failures, shared so tests and callers see
// the same text.
const (
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	msgExpired           = "Request has expired"
	msgContentSHA256     = "The provided 'x-amz-content-sha256' header does not match what was computed."
	msgIncompleteBody    = "You did not provide the number of bytes specified by the Content-Length HTTP header."
	msgChunkSignature    = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)
