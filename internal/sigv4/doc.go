// Package sigv4 verifies AWS Signature Version 4 on the server side: header
// auth, presigned (query) auth, session tokens, UNSIGNED-PAYLOAD and the
// aws-chunked streaming payloads S3 clients send.
//
// Verification is split in two so the gateway can look the secret up in
// between: Parse extracts what the client claims (access key, scope,
// signature) without any secret, and Verifier.Verify recomputes the signature
// with the secret. Canonicalization follows what real clients sign (the AWS
// SDKs and botocore), not only the letter of the specification.
//
// The gateway's sequence for one request:
//
//	a, err := sigv4.Parse(r)              // ErrNoAuth: anonymous
//	secret := lookup(a.AccessKeyID)
//	payload := a.PayloadHash              // "" : buffer the body, HashHex(body)
//	err = verifier.Verify(r, a, secret, payload)
//	// then stream the body through NewHashCheckingReader (hex payload hash)
//	// or NewChunkedRequestReader (STREAMING-* payload).
package sigv4
