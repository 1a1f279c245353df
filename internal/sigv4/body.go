package sigv4

import (
	"crypto/sha256"
	"hash"
	"io"
)

// Payload hash literals a client may send in x-amz-content-sha256 instead of
// the body's hash.
const (
	UnsignedPayload                 = "UNSIGNED-PAYLOAD"
	StreamingPayload                = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingPayloadTrailer         = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedPayloadTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// ValidPayloadHash reports whether v is an x-amz-content-sha256 value S3
// accepts: none, UNSIGNED-PAYLOAD, a STREAMING-* mode, or a SHA-256 in hex.
// The SigV4a (ECDSA) modes are among them, so that they are refused as
// unsupported by the chunked reader rather than as malformed here.
func ValidPayloadHash(v string) bool {
	switch v {
	case "", UnsignedPayload, StreamingPayload, StreamingPayloadTrailer, StreamingUnsignedPayloadTrailer,
		"STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER":
		return true
	}
	var sum [32]byte
	return decodeHex32(&sum, v)
}

// NewHashCheckingReader passes body through and, at EOF, returns
// *Error{KindContentSHA256Mismatch} instead of io.EOF if the bytes read do not
// hash to expectedHex. It lets a caller stream a body whose hash was signed
// (x-amz-content-sha256) instead of buffering it before Verify; whoever
// consumes the body must commit nothing before it sees io.EOF.
func NewHashCheckingReader(body io.Reader, expectedHex string) io.Reader {
	return &hashCheckingReader{body: body, h: sha256.New(), want: expectedHex}
}

type hashCheckingReader struct {
	body io.Reader
	h    hash.Hash
	want string
	err  error // sticky once the end is reached
}

func (r *hashCheckingReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.body.Read(p)
	r.h.Write(p[:n])
	if err == io.EOF {
		var want, got [32]byte
		r.h.Sum(got[:0])
		if !decodeHex32(&want, r.want) || want != got {
			r.err = newError(KindContentSHA256Mismatch, msgContentSHA256)
			return n, r.err
		}
		r.err = io.EOF
	}
	return n, err
}
