package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// GitTimeFormat is how a git password dates its signature: the SigV4
// timestamp without its Z, which the password puts between the two.
const GitTimeFormat = "20060102T150405"

// GitPassword is the password the aws CLI's CodeCommit credential helper
// gives git for a repository URL on host (without its port) and path
// ("/v1/repos/name"): a SigV4 signature of the pseudo-request
// "GIT <path>" with only the host header, for service codecommit in
// region, prefixed with its time and a Z.
func GitPassword(secret, region, host, path string, t time.Time) string {
	ts := t.UTC().Format(GitTimeFormat)
	return ts + "Z" + gitSignature(secret, region, host, path, ts, t)
}

// gitSignature is the hex signature part of GitPassword for the timestamp
// ts, which is t formatted with GitTimeFormat.
func gitSignature(secret, region, host, path, ts string, t time.Time) string {
	canonical := "GIT\n" + path + "\n\nhost:" + host + "\n\nhost\n"
	scope := ts[:8] + "/" + region + "/codecommit/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + ts + "\n" + scope + "\n" + HashHex([]byte(canonical))
	m := hmac.New(sha256.New, DeriveSigningKey(secret, t, region, "codecommit"))
	m.Write([]byte(toSign))
	return hex.EncodeToString(m.Sum(nil))
}

// ParseGitPassword splits a credential helper's password into the time it
// was signed at and its signature; ok is false for anything else (an IAM
// Git credential's password, say).
func ParseGitPassword(password string) (t time.Time, ok bool) {
	if len(password) != len(GitTimeFormat)+1+64 || password[len(GitTimeFormat)] != 'Z' {
		return time.Time{}, false
	}
	t, err := time.Parse(GitTimeFormat, password[:len(GitTimeFormat)])
	if err != nil {
		return time.Time{}, false
	}
	if _, err := hex.DecodeString(password[len(GitTimeFormat)+1:]); err != nil {
		return time.Time{}, false
	}
	return t, true
}

// VerifyGitPassword tells whether password is GitPassword's for secret,
// region, host and path, in constant time.
func VerifyGitPassword(password, secret, region, host, path string) bool {
	t, ok := ParseGitPassword(password)
	if !ok {
		return false
	}
	want := gitSignature(secret, region, host, path, password[:len(GitTimeFormat)], t)
	return hmac.Equal([]byte(want), []byte(password[len(GitTimeFormat)+1:]))
}
